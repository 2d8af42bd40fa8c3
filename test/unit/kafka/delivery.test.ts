import { KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { describe, expect, it } from 'vitest';

import { groupByTopic, isFencedError, transactionalId } from '../../../src/kafka/delivery.js';

describe('exactly-once delivery helpers', () => {
  it('recognises a fenced producer, also behind kafkajs retry wrappers', () => {
    const epoch = new KafkaJSProtocolError(Object.assign(new Error('epoch'), { type: 'INVALID_PRODUCER_EPOCH', code: 47, retriable: false }));
    expect(isFencedError(epoch)).toBe(true);
    expect(isFencedError(new KafkaJSNumberOfRetriesExceeded(epoch, { retryCount: 5, retryTime: 100 }))).toBe(true);
    // PRODUCER_FENCED (90) is unknown to kafkajs 2.2: only its code arrives.
    expect(isFencedError(Object.assign(new Error('unknown'), { code: 90 }))).toBe(true);
    expect(isFencedError(new KafkaJSProtocolError(Object.assign(new Error('x'), { type: 'NOT_COORDINATOR', code: 16, retriable: true })))).toBe(false);
    expect(isFencedError(new Error('plain'))).toBe(false);
    expect(isFencedError('INVALID_PRODUCER_EPOCH')).toBe(false);
  });

  it('gives each input partition its own transactional id, the same on every instance', () => {
    expect(transactionalId('logsift-g', 'logs', 3)).toBe('logsift-g-logs-3');
    expect(transactionalId('logsift-g', 'logs', 3)).not.toBe(transactionalId('logsift-g', 'logs', 4));
  });

  it('groups records by topic, keeping their order', () => {
    const r = (topic: string, value: string) => ({ topic, key: null, value, headers: {} });
    expect(groupByTopic([r('a', '1'), r('b', '2'), r('a', '3')])).toEqual([
      { topic: 'a', messages: [{ key: null, value: '1', headers: {} }, { key: null, value: '3', headers: {} }] },
      { topic: 'b', messages: [{ key: null, value: '2', headers: {} }] },
    ]);
  });
});
