/**
 * The external-Kafka path of the suite (LOGSIFT_TEST_BROKERS), run here against a mock cluster
 * standing in for a Kafka the suite does not own. The mock has no CreateTopics API, so topic creation
 * and deletion through the admin API run only against real Kafka (.github/workflows/kafka.yml).
 */
import { afterEach, describe, expect, it } from 'vitest';

import { ExternalCluster, MockCluster, NEEDS_MOCK_FAULTS, externalBrokers } from '../helpers/broker.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

describe('external Kafka (LOGSIFT_TEST_BROKERS)', () => {
  it('parses the bootstrap list and refuses a malformed one', () => {
    expect(externalBrokers({})).toBeNull();
    expect(externalBrokers({ LOGSIFT_TEST_BROKERS: ' ' })).toBeNull();
    expect(externalBrokers({ LOGSIFT_TEST_BROKERS: 'localhost:9092, kafka-1:9094' })).toEqual(['localhost:9092', 'kafka-1:9094']);
    expect(() => externalBrokers({ LOGSIFT_TEST_BROKERS: 'localhost' })).toThrow(/host:port/);
  });

  it('connects with the admin client and refuses fault commands, saying why', async () => {
    const mock = await MockCluster.start();
    cleanup.push(() => mock.stop());
    const external = await ExternalCluster.connect(mock.brokers);
    cleanup.push(() => external.stop());
    expect(external.injectsFaults).toBe(false);
    expect(external.bootstrap).toBe(mock.bootstrap);
    await expect(external.command('down -1')).rejects.toThrow(NEEDS_MOCK_FAULTS);
    await external.stop();
  });
});
