/** The execution page's GraphQL documents. */
import { graphql } from "../gql";

/** What the page draws first: the header and the compact timeline (states of the execution,
 * its task runs and their attempts). Outputs and metrics follow on demand (`ExecutionDetailsQuery`). */
export const ExecutionQuery = graphql(`
  query ExecutionPage($id: ID!) {
    execution(id: $id) {
      id namespace flowId flowRevision inputs outputs parentId originalId
      labels { key value }
      metadata { attemptNumber originalCreatedDate }
      trigger { id type }
      timeline
    }
  }
`);

/** Task runs' outputs and attempts' metrics: for the Outputs and Metrics tabs and the side panel. */
export const ExecutionDetailsQuery = graphql(`
  query ExecutionDetails($id: ID!) {
    execution(id: $id) {
      id
      taskRunList { id outputs attempts { metrics { name type value tags } } }
    }
  }
`);

/** The executions of the same flow started just before and just after this one. */
export const NeighboursQuery = graphql(`
  query Neighbours($namespace: String!, $flowId: String!, $start: DateTime!) {
    previous: executions(filter: { namespaceEquals: $namespace, flowId: $flowId, startDate: { lt: $start } }, first: 1) {
      edges { node { id } }
    }
    next: executions(filter: { namespaceEquals: $namespace, flowId: $flowId, startDate: { gte: $start } },
                     first: 2, orderBy: { field: START_DATE, direction: ASC }) {
      edges { node { id } }
    }
  }
`);

export const FlowSourceQuery = graphql(`
  query FlowSource($namespace: String!, $id: String!) {
    flowRevisions(namespace: $namespace, id: $id) { revision source }
  }
`);

export const LogsPageQuery = graphql(`
  query LogsPage($executionId: ID!, $after: String) {
    logs(executionId: $executionId, after: $after, first: 100) {
      edges { node { cursor sequence taskRunId taskId attemptNumber level message timestamp } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);


export const KillMutation = graphql(`
  mutation Kill($id: ID!) { killExecution(id: $id) { __typename ... on Execution { id state { current } } ... on Error { message } } }
`);
export const RestartMutation = graphql(`
  mutation Restart($id: ID!) { restartExecution(id: $id) { __typename ... on Execution { id state { current } } ... on Error { message } } }
`);
export const PauseMutation = graphql(`
  mutation Pause($id: ID!) { pauseExecution(id: $id) { __typename ... on Execution { id state { current } } ... on Error { message } } }
`);
export const ResumeMutation = graphql(`
  mutation Resume($id: ID!, $inputs: JSON) { resumeExecution(id: $id, inputs: $inputs) { __typename ... on Execution { id state { current } } ... on Error { message } ... on InvalidInputsError { issues { input message } } } }
`);
export const ReplayMutation = graphql(`
  mutation Replay($id: ID!, $taskRunId: ID) { replayExecution(id: $id, taskRunId: $taskRunId) { __typename ... on Execution { id state { current } } ... on Error { message } } }
`);
export const DeleteMutation = graphql(`
  mutation Delete($id: ID!) { deleteExecution(id: $id) { __typename ... on Execution { id } ... on Error { message } } }
`);

