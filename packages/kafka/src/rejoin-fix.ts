// When the broker is away, a kafkajs 2.2.4 consumer soon crashes (no broker available) and
// restarts itself with a new consumer-group object that has forgotten its member id. Back on the
// broker it joins as a new member, and the group coordinator, which kept the old member, holds
// the rebalance until that member's session expires (the consumer's sessionTimeout, counted from
// the coordinator's start): every partition of the group stands still meanwhile. Measured in the
// 10 s broker outage of e2e/chaos.e2e.test.ts: a service whose consumer had restarted resumed 10 s
// after the broker, orders waited up to 27 s of their 30 s deadline.
//
// The replacement lets a restarted consumer rejoin as the member it was: its first join sends the
// member id its predecessor last had (remembered per kafkajs consumer, whose instrumentation
// emitter both objects share). A coordinator that still knows the id takes the member back at
// once; one that does not answers UNKNOWN_MEMBER_ID, and kafkajs joins afresh, as it did before.
// A member that left the group (a stop) is forgotten.
// @ts-expect-error kafkajs ships no types for its internals
import ConsumerGroup from "kafkajs/src/consumer/consumerGroup.js";

interface ConsumerGroupInternals {
  memberId: string | null;
  instrumentationEmitter: object;
  joinAndSync: (this: ConsumerGroupInternals) => Promise<void>;
  leave: (this: ConsumerGroupInternals) => Promise<void>;
}

const group = (ConsumerGroup as { prototype: ConsumerGroupInternals }).prototype;
if (typeof group.joinAndSync !== "function" || typeof group.leave !== "function") {
  throw new Error("kafkajs' ConsumerGroup changed: review packages/kafka/src/rejoin-fix.ts");
}

/** The member id a kafkajs consumer (known by its instrumentation emitter) last joined with. */
const lastMemberIdOf = new WeakMap<object, string>();
/** Group objects that have joined once: only a fresh one (after a restart) takes the remembered id. */
const joinedBefore = new WeakSet<ConsumerGroupInternals>();

const joinAndSync = group.joinAndSync;
group.joinAndSync = async function rejoinAsBefore(this: ConsumerGroupInternals) {
  if (!joinedBefore.has(this) && !this.memberId) this.memberId = lastMemberIdOf.get(this.instrumentationEmitter) ?? null;
  await joinAndSync.call(this);
  joinedBefore.add(this);
  if (this.memberId) lastMemberIdOf.set(this.instrumentationEmitter, this.memberId);
};

const leave = group.leave;
group.leave = async function leaveAndForget(this: ConsumerGroupInternals) {
  await leave.call(this);
  lastMemberIdOf.delete(this.instrumentationEmitter);
};
