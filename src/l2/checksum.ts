// The Internet checksum (RFC 1071) and the ICMPv6 pseudo-header sum (RFC 8200 8.1).

export const NEXT_HEADER_ICMPV6 = 58;

/** One's-complement sum of 16-bit words, folded, not yet inverted. */
function sumWords(data: Buffer, initial: number): number {
  let sum = initial;
  const even = data.length & ~1;
  for (let i = 0; i < even; i += 2) sum += data.readUInt16BE(i);
  if (data.length & 1) sum += data[data.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/**
 * ICMPv6 checksum of `message` (its checksum field included as it stands) with
 * the IPv6 pseudo-header. Sending: compute with the field zeroed and store it.
 * Receiving: a correct message sums to 0.
 */
export function icmpv6Checksum(src: Buffer, dst: Buffer, message: Buffer): number {
  const pseudo = Buffer.alloc(40);
  src.copy(pseudo, 0);
  dst.copy(pseudo, 16);
  pseudo.writeUInt32BE(message.length, 32);
  pseudo[39] = NEXT_HEADER_ICMPV6;
  const sum = sumWords(message, sumWords(pseudo, 0));
  return ~sum & 0xffff;
}
