// A proposal's objections, a `@connection` of their own.
import { graphql } from 'react-relay';

export const fragment = graphql`
  fragment ProposalObjections_proposal on Proposal {
    objections(first: 10) @connection(key: "ProposalObjections_objections") {
      edges {
        node {
          id
          state
          reason
        }
      }
    }
  }
`;
