export { batchedLookup, type BatchedLookupOptions } from "./batched-lookup.ts";
export { GroupCommitter, type GroupCommitOptions } from "./group-commit.ts";
