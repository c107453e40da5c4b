// One proposal with its advice and objections as connections, refetchable
// by its id through `node(id)`.
import { graphql } from 'react-relay';

export const fragment = graphql`
  fragment ProposalDetail_proposal on Proposal
  @refetchable(queryName: "ProposalDetailRefetchQuery") {
    id
    title
    state
    advice(first: 10) @connection(key: "ProposalDetail_advice") {
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
    objections(first: 10) @connection(key: "ProposalDetail_objections") {
      edges {
        node {
          id
          state
          reason
        }
      }
    }
    votes(first: 10) {
      edges {
        node {
          agree
        }
      }
    }
  }
`;
