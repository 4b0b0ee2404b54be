/**
 * The free addresses of one pool and family, kept as disjoint intervals in an
 * AVL tree keyed by interval start. Every operation is O(log k), k = number of
 * free intervals (at most allocations + ranges + 1), whatever the size of the
 * address space: nothing ever walks addresses.
 */

interface IntervalNode {
  start: bigint;
  end: bigint;
  left: IntervalNode | null;
  right: IntervalNode | null;
  height: number;
}

function height(node: IntervalNode | null): number {
  return node ? node.height : 0;
}

function refresh(node: IntervalNode): void {
  node.height = Math.max(height(node.left), height(node.right)) + 1;
}

function rotateRight(node: IntervalNode): IntervalNode {
  const pivot = node.left!;
  node.left = pivot.right;
  pivot.right = node;
  refresh(node);
  refresh(pivot);
  return pivot;
}

function rotateLeft(node: IntervalNode): IntervalNode {
  const pivot = node.right!;
  node.right = pivot.left;
  pivot.left = node;
  refresh(node);
  refresh(pivot);
  return pivot;
}

function rebalance(node: IntervalNode): IntervalNode {
  refresh(node);
  const balance = height(node.left) - height(node.right);
  if (balance > 1) {
    if (height(node.left!.left) < height(node.left!.right)) node.left = rotateLeft(node.left!);
    return rotateRight(node);
  }
  if (balance < -1) {
    if (height(node.right!.right) < height(node.right!.left)) node.right = rotateRight(node.right!);
    return rotateLeft(node);
  }
  return node;
}

function insertNode(node: IntervalNode | null, start: bigint, end: bigint): IntervalNode {
  if (!node) return { start, end, left: null, right: null, height: 1 };
  if (start < node.start) node.left = insertNode(node.left, start, end);
  else node.right = insertNode(node.right, start, end);
  return rebalance(node);
}

function removeMin(node: IntervalNode): IntervalNode | null {
  if (!node.left) return node.right;
  node.left = removeMin(node.left);
  return rebalance(node);
}

function deleteNode(node: IntervalNode | null, start: bigint): IntervalNode | null {
  if (!node) return null;
  if (start < node.start) node.left = deleteNode(node.left, start);
  else if (start > node.start) node.right = deleteNode(node.right, start);
  else {
    if (!node.left) return node.right;
    if (!node.right) return node.left;
    let successor = node.right;
    while (successor.left) successor = successor.left;
    node.start = successor.start;
    node.end = successor.end;
    node.right = removeMin(node.right);
  }
  return rebalance(node);
}

export class FreeIntervalSet {
  private root: IntervalNode | null = null;
  private freeCount = 0n;
  private nodeCount = 0;

  /** Number of free values. O(1). */
  get size(): bigint {
    return this.freeCount;
  }

  /** Number of disjoint free intervals (what the tree's depth depends on). */
  get intervalCount(): number {
    return this.nodeCount;
  }

  /** The lowest free value, or undefined when nothing is free. */
  lowest(): bigint | undefined {
    let node = this.root;
    if (!node) return undefined;
    while (node.left) node = node.left;
    return node.start;
  }

  has(value: bigint): boolean {
    const node = this.floor(value);
    return node !== null && value <= node.end;
  }

  /** Takes the lowest free value out of the set. */
  takeLowest(): bigint | undefined {
    const lowest = this.lowest();
    if (lowest === undefined) return undefined;
    this.take(lowest);
    return lowest;
  }

  /** Removes one value; false when it was not free. */
  take(value: bigint): boolean {
    const node = this.floor(value);
    if (!node || value > node.end) return false;
    this.freeCount -= 1n;
    if (node.start === node.end) {
      this.root = deleteNode(this.root, node.start);
      this.nodeCount--;
    } else if (value === node.start) {
      // Raising a start keeps the tree order: no other interval lies in between.
      node.start = value + 1n;
    } else if (value === node.end) {
      node.end = value - 1n;
    } else {
      const tailEnd = node.end;
      node.end = value - 1n;
      this.root = insertNode(this.root, value + 1n, tailEnd);
      this.nodeCount++;
    }
    return true;
  }

  /** Returns one value to the set; false when it was already free. */
  release(value: bigint): boolean {
    return this.addRange(value, value);
  }

  /** Adds [start, end] as free, merging with neighbours; false (and no change) if any of it is already free. */
  addRange(start: bigint, end: bigint): boolean {
    if (start > end) throw new RangeError(`addRange: start ${start} is after end ${end}`);
    const before = this.floor(end);
    if (before && before.end >= start) return false;
    const after = this.ceilingAbove(end);
    const joinsBefore = before !== null && before.end + 1n === start;
    const joinsAfter = after !== null && after.start === end + 1n;
    if (joinsBefore && joinsAfter) {
      const mergedEnd = after.end;
      this.root = deleteNode(this.root, after.start);
      this.nodeCount--;
      before.end = mergedEnd;
    } else if (joinsBefore) {
      before.end = end;
    } else if (joinsAfter) {
      after.start = start;
    } else {
      this.root = insertNode(this.root, start, end);
      this.nodeCount++;
    }
    this.freeCount += end - start + 1n;
    return true;
  }

  /** The free intervals in order (for tests and debugging; O(k)). */
  intervals(): Array<[bigint, bigint]> {
    const out: Array<[bigint, bigint]> = [];
    const walk = (node: IntervalNode | null): void => {
      if (!node) return;
      walk(node.left);
      out.push([node.start, node.end]);
      walk(node.right);
    };
    walk(this.root);
    return out;
  }

  /** The interval with the greatest start <= value. */
  private floor(value: bigint): IntervalNode | null {
    let node = this.root;
    let best: IntervalNode | null = null;
    while (node) {
      if (node.start <= value) {
        best = node;
        node = node.right;
      } else {
        node = node.left;
      }
    }
    return best;
  }

  /** The interval with the smallest start > value. */
  private ceilingAbove(value: bigint): IntervalNode | null {
    let node = this.root;
    let best: IntervalNode | null = null;
    while (node) {
      if (node.start > value) {
        best = node;
        node = node.left;
      } else {
        node = node.right;
      }
    }
    return best;
  }
}
