import { topicOf, type EventName, type EventPayloads } from "@shop/events";
import { EventCodec, EventPublisher, createKafka } from "@shop/kafka";
import type { Logger } from "@shop/logging";
import { testInfra } from "./kafka.ts";

/** Publishes saga events as another service would (registry-encoded, keyed by order id). */
export class TestEventPublisher {
  private constructor(
    private readonly publisher: EventPublisher,
    private readonly topicPrefix: string,
  ) {}

  static async connect(topicPrefix: string, logger: Logger): Promise<TestEventPublisher> {
    const publisher = new EventPublisher(
      createKafka(`test-publisher-${topicPrefix}`, testInfra.brokers, logger),
      EventCodec.forUrl(testInfra.registryUrl, topicPrefix),
    );
    await publisher.connect();
    return new TestEventPublisher(publisher, topicPrefix);
  }

  send<E extends EventName>(type: E, payload: EventPayloads[E]): Promise<void> {
    return this.publisher.publish([{ eventType: type, topic: topicOf(type, this.topicPrefix), key: (payload as { orderId: string }).orderId, payload }]);
  }

  disconnect(): Promise<void> {
    return this.publisher.disconnect();
  }
}
