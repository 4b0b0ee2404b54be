import { describe, expect, it } from 'vitest';
import { ApiContact } from '../../../src/election/api-contact.js';

const LEASE = 40_000;
const BEAT = 10_000;

/** Renewals every heartbeat from `from` to `to` (inclusive), each with result `ok`. */
function renew(contact: ApiContact, from: number, to: number, ok: boolean): void {
  for (let t = from; t <= to; t += BEAT) contact.result(ok, t);
}

describe('ApiContact: standing with the API server from heartbeat renewals', () => {
  it('a new speaker is neither cut off nor steady until it has renewed for a lease-duration', () => {
    const contact = new ApiContact(LEASE, 0);
    expect(contact.standing(1000)).toEqual({ cutOff: false, steady: false });
    renew(contact, 1000, 31_000, true);
    expect(contact.standing(31_000)).toEqual({ cutOff: false, steady: false });
    contact.result(true, 41_000);
    expect(contact.standing(41_000)).toEqual({ cutOff: false, steady: true });
  });

  it('one that never reaches the API is cut off a lease-duration after its start', () => {
    const contact = new ApiContact(LEASE, 5000);
    renew(contact, 5000, 44_000, false);
    expect(contact.standing(44_999).cutOff).toBe(false);
    expect(contact.standing(45_000)).toEqual({ cutOff: true, steady: false });
  });

  it('failing renewals: not steady at once, cut off a lease-duration after the last success', () => {
    const contact = new ApiContact(LEASE, 0);
    renew(contact, 0, 50_000, true);
    expect(contact.standing(50_000).steady).toBe(true);
    contact.result(false, 51_000);
    expect(contact.standing(51_000)).toEqual({ cutOff: false, steady: false });
    expect(contact.standing(89_999).cutOff).toBe(false);
    expect(contact.standing(90_000).cutOff).toBe(true);
  });

  it('a short failure does not restart the wait for steadiness; a cut-off does', () => {
    const contact = new ApiContact(LEASE, 0);
    renew(contact, 0, 50_000, true);
    contact.result(false, 55_000);
    contact.result(true, 56_000);
    expect(contact.standing(56_000)).toEqual({ cutOff: false, steady: true });
    // Cut off from 56 s to 120 s: contact again at 120 s, steady only from 160 s.
    contact.result(true, 120_000);
    expect(contact.standing(120_000)).toEqual({ cutOff: false, steady: false });
    renew(contact, 130_000, 150_000, true);
    expect(contact.standing(159_999).steady).toBe(false);
    contact.result(true, 160_000);
    expect(contact.standing(160_000).steady).toBe(true);
  });
});
