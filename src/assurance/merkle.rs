//! RFC 6962 Merkle tree arithmetic over stored leaf hashes.
//!
//! Which nodes a proof needs comes from `ct-merkle` (array-based tree
//! indices); this module maps such a node to the range of leaves under it and
//! hashes ranges. Checking a proof whose leaf is given only as a hash (as the
//! transparency-dev vectors give it) follows RFC 9162 section 2.1.3.2, because
//! `ct-merkle` checks inclusion from the leaf's value; both are tested against
//! each other.

use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([1u8]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The largest power of two strictly less than `n` (n >= 2).
pub fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// The leaves `[start, end)` under an array-tree node (as `ct-merkle`
/// numbers nodes: leaf i is 2i, a node's level is its count of trailing
/// ones), in a tree of `size` leaves.
pub fn node_range(node: u64, size: u64) -> (u64, u64) {
    let level = node.trailing_ones();
    let start = (node >> (level + 1)) << level;
    let end = start.saturating_add(1u64 << level).min(size);
    (start, end)
}

/// The hash of leaves `[start, end)` given all of them, RFC 6962's MTH.
pub fn root_of(leaves: &[Hash]) -> Option<Hash> {
    match leaves.len() {
        0 => None,
        1 => Some(leaves[0]),
        n => {
            let k = split(n as u64) as usize;
            Some(node_hash(&root_of(&leaves[..k])?, &root_of(&leaves[k..])?))
        }
    }
}

/// Builds a root leaf by leaf in O(log n) memory: a stack of the roots of
/// perfect subtrees, largest first.
#[derive(Debug, Clone, Default)]
pub struct Frontier {
    size: u64,
    stack: Vec<Hash>,
}

impl Frontier {
    /// Adds the next leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        self.push_with(leaf, |_, _| {});
    }

    /// Adds the next leaf hash, telling `completed` of every perfect subtree
    /// the leaf completes, smallest first: its level (0 for the leaf itself,
    /// `l` for a subtree of `2^l` leaves) and its root.
    pub fn push_with(&mut self, leaf: Hash, mut completed: impl FnMut(u32, &Hash)) {
        let mut hash = leaf;
        let mut size = self.size;
        let mut level = 0;
        completed(level, &hash);
        while size & 1 == 1 {
            let left = self.stack.pop().unwrap_or_default();
            hash = node_hash(&left, &hash);
            size >>= 1;
            level += 1;
            completed(level, &hash);
        }
        self.stack.push(hash);
        self.size += 1;
    }

    /// How many leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root of the tree so far (`None` while empty).
    pub fn root(&self) -> Option<Hash> {
        let mut iter = self.stack.iter().rev();
        let mut root = *iter.next()?;
        for left in iter {
            root = node_hash(left, &root);
        }
        Some(root)
    }
}

/// Why a proof did not check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The leaf index is not inside the tree.
    #[error("leaf {index} is not in a tree of {size}")]
    OutOfRange {
        /// The index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The proof has the wrong number of hashes.
    #[error("the proof has {got} hashes, a proof for that leaf and tree has {want}")]
    WrongLength {
        /// Hashes given.
        got: usize,
        /// Hashes a proof has.
        want: usize,
    },
    /// The proof does not lead to the root.
    #[error("the proof does not lead to the root")]
    RootMismatch,
    /// The sizes do not make a consistency proof.
    #[error("no consistency proof exists from {from} to {to}")]
    BadSizes {
        /// Old size.
        from: u64,
        /// New size.
        to: u64,
    },
}

/// Checks that a leaf hash is at `index` in the tree of `size` with `root`
/// (RFC 9162, 2.1.3.2).
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::OutOfRange { index, size });
    }
    let want = ct_merkle::indices_for_inclusion_proof(size, index).len();
    if proof.len() != want {
        return Err(ProofError::WrongLength {
            got: proof.len(),
            want,
        });
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(ProofError::RootMismatch);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn == 0 && r == *root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// Checks that the tree of `from` leaves with `old_root` is a prefix of the
/// tree of `to` leaves with `new_root`, with `ct-merkle`.
pub fn verify_consistency(
    from: u64,
    to: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> Result<(), ProofError> {
    if from == 0 || from > to {
        return Err(ProofError::BadSizes { from, to });
    }
    if from == to {
        return if proof.is_empty() && old_root == new_root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    let old = ct_merkle::RootHash::<Sha256>::new((*old_root).into(), from);
    let new = ct_merkle::RootHash::<Sha256>::new((*new_root).into(), to);
    let digests: Vec<sha2::digest::Output<Sha256>> = proof.iter().map(|h| (*h).into()).collect();
    let proof = ct_merkle::ConsistencyProof::<Sha256>::from_digests(digests.iter());
    new.verify_consistency(&old, &proof)
        .map_err(|_| ProofError::RootMismatch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::canonical::leaf_hash;

    fn leaves(n: u64) -> Vec<Vec<u8>> {
        (0..n).map(|i| format!("leaf {i}").into_bytes()).collect()
    }

    fn tree(values: &[Vec<u8>]) -> ct_merkle::mem_backed_tree::MemoryBackedTree<Sha256, Vec<u8>> {
        let mut tree = ct_merkle::mem_backed_tree::MemoryBackedTree::new();
        for v in values {
            tree.push(v.clone());
        }
        tree
    }

    #[test]
    fn roots_agree_with_ct_merkle_for_every_size() {
        for n in 1..=40u64 {
            let values = leaves(n);
            let hashes: Vec<Hash> = values.iter().map(|v| leaf_hash(v)).collect();
            let expected: Hash = (*tree(&values).root().as_bytes()).into();
            assert_eq!(root_of(&hashes), Some(expected), "size {n}");
            let mut frontier = Frontier::default();
            hashes.iter().for_each(|h| frontier.push(*h));
            assert_eq!(frontier.root(), Some(expected), "frontier at size {n}");
        }
    }

    #[test]
    fn inclusion_from_a_leaf_hash_agrees_with_ct_merkle() {
        for n in 1..=33u64 {
            let values = leaves(n);
            let t = tree(&values);
            let root: Hash = (*t.root().as_bytes()).into();
            for i in 0..n {
                let proof: Vec<Hash> = t
                    .prove_inclusion(i as usize)
                    .as_bytes()
                    .chunks(32)
                    .map(|c| c.try_into().expect("32"))
                    .collect();
                assert!(t
                    .root()
                    .verify_inclusion(&values[i as usize], i, &t.prove_inclusion(i as usize))
                    .is_ok());
                assert_eq!(
                    verify_inclusion(&leaf_hash(&values[i as usize]), i, n, &proof, &root),
                    Ok(()),
                    "{i} of {n}"
                );
                if n > 1 {
                    let other = (i + 1) % n;
                    assert!(verify_inclusion(
                        &leaf_hash(&values[other as usize]),
                        i,
                        n,
                        &proof,
                        &root
                    )
                    .is_err());
                }
            }
        }
    }

    #[test]
    fn node_ranges_cover_the_right_leaves() {
        // Tree of 3: nodes 0,1,2,3,4; root 3 covers all, node 1 covers 0..2.
        assert_eq!(node_range(3, 3), (0, 3));
        assert_eq!(node_range(1, 3), (0, 2));
        assert_eq!(node_range(4, 3), (2, 3));
        assert_eq!(node_range(5, 8), (2, 4));
        assert_eq!(split(5), 4);
        assert_eq!(split(8), 4);
        assert_eq!(split(2), 1);
    }
}
