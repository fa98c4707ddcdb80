export {
  decision,
  foldDecisions,
  ignore,
  type Decision,
  type Folded,
  type DecisionContext,
  type Reaction,
  type Reactions,
  type SagaEvent,
  type SagaParticipant,
} from "./participant.ts";
export { ParticipantRunner, type AfterCommit, type ParticipantRepository, type ParticipantRunnerOptions } from "./runner.ts";
