// The suite picks users inside and outside a rollout with the contract's bucketing; this checks
// that helper against the contract's test vectors (no server needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { murmur3, bucket } from './support/flagservice.mjs';

test('murmur3_x86_32 and buckets match the contract test vectors', () => {
  const vectors = [
    ['dark_mode:user_12345', 716509739, 39],
    ['new_checkout:user_42', 3172665498, 98],
    ['flag:user123', 1048025678, 78],
    ['f:alice@example.com', 3027423424, 24],
    ['beta:ü-üser', 2075054137, 37],
  ];
  for (const [text, hash, expected] of vectors) {
    assert.equal(murmur3(text), hash, text);
    assert.equal(murmur3(text) % 100, expected, text);
  }
  assert.equal(bucket('dark_mode', 'user_12345'), 39);
});
