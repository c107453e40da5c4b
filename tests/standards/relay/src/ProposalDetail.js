// One proposal with its advice as a `@connection` (Relay allows one in a
// refetchable fragment), its objections through ProposalObjections' fragment
// and its votes, refetchable by its id through `node(id)`.
import { graphql } from 'react-relay';

export const fragment = graphql`
  fragment ProposalDetail_proposal on Proposal
  @refetchable(queryName: "ProposalDetailRefetchQuery")
  @argumentDefinitions(
    adviceCount: { type: "Int", defaultValue: 10 }
    adviceCursor: { type: "String" }
  ) {
    id
    title
    state
    advice(first: $adviceCount, after: $adviceCursor)
      @connection(key: "ProposalDetail_advice") {
      edges {
        node {
          id
          stance
          text
          by {
            id
            name
          }
        }
      }
    }
    ...ProposalObjections_proposal
    votes(first: 10) {
      edges {
        node {
          agree
        }
      }
    }
  }
`;
