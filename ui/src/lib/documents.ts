/**
 * The GraphQL documents shared by several screens. Each `graphql()` call is typed by codegen
 * (`npm run codegen` writes src/gql/ from ../schema.graphql); a screen's own documents may live
 * next to it.
 */
import { graphql } from "../gql";

export const ExecutionRowFields = graphql(`
  fragment ExecutionRow on Execution {
    id namespace flowId labels { key value } parentId originalId
    metadata { attemptNumber }
    state { current startDate endDate }
  }
`);

export const ExecutionsQuery = graphql(`
  query Executions($filter: ExecutionFilter, $first: Int, $after: String) {
    executions(filter: $filter, first: $first, after: $after) {
      edges { cursor node { ...ExecutionRow } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

export const StatsQuery = graphql(`
  query ExecutionStats($filter: ExecutionFilter, $bucket: Duration!) {
    executionStats(filter: $filter, bucket: $bucket) {
      buckets { start total counts { state count } }
    }
  }
`);

export const NamesQuery = graphql(`
  query Names { namespaces flows { namespace id } }
`);

export const StateChangesSubscription = graphql(`
  subscription StateChanges($executionId: ID, $after: String, $filter: StateChangeFilter) {
    stateChanges(executionId: $executionId, after: $after, filter: $filter) {
      cursor sequence entity executionId taskRunId attemptNumber state previous date taskId value
    }
  }
`);

/** The executions list's stream: an execution's first entry, when streamed live, carries its
 * row, so the list shows a new execution without a query (replayed entries carry none). */
export const ListChangesSubscription = graphql(`
  subscription ListChanges($after: String, $filter: StateChangeFilter) {
    stateChanges(after: $after, filter: $filter) {
      cursor sequence executionId state date execution { ...ExecutionRow }
    }
  }
`);

export const LogsSubscription = graphql(`
  subscription Logs($executionId: ID!, $after: String) {
    logs(executionId: $executionId, after: $after) {
      cursor sequence taskRunId taskId attemptNumber level message timestamp
    }
  }
`);
