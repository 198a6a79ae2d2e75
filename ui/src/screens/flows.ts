/** Documents of the flows list and the flow page. */
import { graphql } from "../gql";

export const FlowListQuery = graphql(`
  query FlowList($namespace: String) {
    flows(namespace: $namespace) { namespace id revision disabled description updated labels { key value } }
    namespaces
  }
`);

export const LastExecutionQuery = graphql(`
  query LastExecution($filter: ExecutionFilter) {
    executions(filter: $filter, first: 1) { edges { node { id state { current startDate } } } }
  }
`);

export const FlowQuery = graphql(`
  query FlowPage($namespace: String!, $id: String!) {
    flow(namespace: $namespace, id: $id) {
      namespace id revision disabled description updated source inputs labels { key value }
    }
  }
`);

export const FlowRevisionsQuery = graphql(`
  query FlowRevisionSources($namespace: String!, $id: String!) {
    flowRevisions(namespace: $namespace, id: $id) { revision updated source disabled }
  }
`);

export const SetFlowDisabledMutation = graphql(`
  mutation SetFlowDisabled($namespace: String!, $id: String!, $disabled: Boolean!) {
    setFlowDisabled(namespace: $namespace, id: $id, disabled: $disabled) {
      __typename
      ... on Flow { revision disabled }
      ... on Error { message }
    }
  }
`);

export const CreateExecutionMutation = graphql(`
  mutation CreateExecution($namespace: String!, $flowId: String!, $inputs: JSON, $labels: [LabelInput!]) {
    createExecution(namespace: $namespace, flowId: $flowId, inputs: $inputs, labels: $labels) {
      __typename
      ... on Execution { id }
      ... on InvalidInputsError { message issues { input message } }
      ... on Error { message }
    }
  }
`);

export const FlowStatsQuery = graphql(`
  query FlowStats($filter: ExecutionFilter, $bucket: Duration!) {
    executionStats(filter: $filter, bucket: $bucket) {
      ended p50 p90 p99 max
      buckets { start total counts { state count } }
    }
  }
`);
