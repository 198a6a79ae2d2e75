/** Documents of the task runs page. */
import { graphql } from "../gql";

export const TaskRunRowFields = graphql(`
  fragment TaskRunRow on TaskRun {
    id executionId namespace flowId taskId value iteration
    state { current startDate endDate }
    attempts { state { current } }
  }
`);

export const TaskRunsQuery = graphql(`
  query TaskRuns($filter: TaskRunFilter, $first: Int, $after: String, $orderBy: TaskRunOrder) {
    taskRuns(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {
      edges { cursor node { ...TaskRunRow } }
      pageInfo { hasNextPage endCursor }
      totalCount
    }
  }
`);
