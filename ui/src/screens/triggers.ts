/** Documents of the triggers screen and the flow page's Triggers tab (semantics.md#triggers). */
import { graphql } from "../gql";

export const TriggersQuery = graphql(`
  query Triggers($namespace: String) {
    triggers(namespace: $namespace) { namespace flowId id type disabled nextDate lastExecutionId }
  }
`);

export const SetTriggerDisabledMutation = graphql(`
  mutation SetTriggerDisabled($namespace: String!, $flowId: String!, $triggerId: String!, $disabled: Boolean!) {
    setTriggerDisabled(namespace: $namespace, flowId: $flowId, triggerId: $triggerId, disabled: $disabled) {
      __typename
      ... on Trigger { id disabled nextDate lastExecutionId }
      ... on Error { message }
    }
  }
`);

export const BackfillMutation = graphql(`
  mutation BackfillTrigger($namespace: String!, $flowId: String!, $triggerId: String!, $start: DateTime!, $end: DateTime) {
    backfillTrigger(namespace: $namespace, flowId: $flowId, triggerId: $triggerId, start: $start, end: $end) {
      __typename
      ... on Backfill { executions { id state { current } trigger { variables } } }
      ... on InvalidInputsError { message issues { input message } }
      ... on Error { message }
    }
  }
`);
