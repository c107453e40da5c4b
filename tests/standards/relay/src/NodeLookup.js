// Any object by its id: a person, team, group or proposal.
import { graphql } from 'react-relay';

export const query = graphql`
  query NodeLookupQuery($id: ID!) {
    node(id: $id) {
      __typename
      id
      ... on Person {
        name
      }
      ... on Team {
        name
      }
    }
  }
`;
