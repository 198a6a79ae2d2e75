/** Documents of the executions list's bulk bar (`bulkExecutions`, docs/semantics.md#bulk). */
import { graphql } from "../gql";

export const BulkMutation = graphql(`
  mutation BulkExecutions($action: BulkAction!, $ids: [ID!], $filter: ExecutionFilter, $dryRun: Boolean, $labels: [LabelInput!]) {
    bulkExecutions(action: $action, ids: $ids, filter: $filter, dryRun: $dryRun, labels: $labels) {
      dryRun matched
      items { executionId outcome message state }
    }
  }
`);

export const MatchingCountQuery = graphql(`
  query MatchingCount($filter: ExecutionFilter) {
    executions(filter: $filter, first: 1) { totalCount }
  }
`);
