// A team's proposals, paged both ways through a `@refetchable` `@connection`
// fragment: Relay refetches further pages through `node(id)`.
import { graphql } from 'react-relay';

export const query = graphql`
  query TeamProposalsQuery($id: ID!, $count: Int, $cursor: String) {
    team(id: $id) {
      name
      ...TeamProposals_team @arguments(count: $count, cursor: $cursor)
    }
  }
`;

export const fragment = graphql`
  fragment TeamProposals_team on Team
  @refetchable(queryName: "TeamProposalsPaginationQuery")
  @argumentDefinitions(
    count: { type: "Int", defaultValue: 2 }
    cursor: { type: "String" }
    last: { type: "Int" }
    before: { type: "String" }
  ) {
    name
    proposals(first: $count, after: $cursor, last: $last, before: $before)
      @connection(key: "TeamProposals_proposals") {
      edges {
        node {
          id
          title
          ...ProposalDetail_proposal
        }
      }
    }
  }
`;
