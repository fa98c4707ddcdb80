import { SchemaRegistry, registerEventSchema, type EventName } from "@shop/events";

/** Confluent wire format through the registry; schema ids are registered once per process and cached. */
export class EventCodec {
  private readonly ids = new Map<EventName, Promise<number>>();

  constructor(
    readonly registry: SchemaRegistry,
    private readonly topicPrefix: string,
  ) {}

  static forUrl(url: string, topicPrefix: string): EventCodec {
    return new EventCodec(new SchemaRegistry({ host: url }, { forSchemaOptions: { noAnonymousTypes: true } }), topicPrefix);
  }

  schemaId(event: EventName): Promise<number> {
    let id = this.ids.get(event);
    if (!id) {
      id = registerEventSchema(this.registry, event, this.topicPrefix);
      id.catch(() => this.ids.delete(event));
      this.ids.set(event, id);
    }
    return id;
  }

  async encode(event: EventName, payload: unknown): Promise<Buffer> {
    return this.registry.encode(await this.schemaId(event), payload);
  }

  async decode<T = unknown>(value: Buffer): Promise<T> {
    return (await this.registry.decode(value)) as T;
  }
}
