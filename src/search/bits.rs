//! Sets of documents as bits, the one layout the count, the filters and
//! the ranking share: document `d` of a segment is bit `d % 64` of word
//! `d / 64`. Plain `u64` slices rather than a bit-set type, so that the
//! count can walk them a chunk at a time and vectorise.

/// How many words hold a bit for each of `documents`.
pub fn words(documents: usize) -> usize {
    documents.div_ceil(64)
}

/// Puts document `at` in `bits`.
// Inline: the ranking calls these once or more a candidate, and another
// codegen unit would make each a call.
#[inline]
pub fn insert(bits: &mut [u64], at: usize) {
    bits[at / 64] |= 1 << (at % 64);
}

/// Whether document `at` is in `bits`.
#[inline]
pub fn has(bits: &[u64], at: usize) -> bool {
    bits[at / 64] & (1 << (at % 64)) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_inserted_is_had_and_its_neighbours_are_not() {
        let documents = 130;
        let mut bits = vec![0u64; words(documents)];
        assert_eq!(bits.len(), 3);
        for at in [0, 63, 64, 129] {
            insert(&mut bits, at);
        }
        let had: Vec<usize> = (0..documents).filter(|&at| has(&bits, at)).collect();
        assert_eq!(had, [0, 63, 64, 129]);
        assert_eq!(words(128), 2);
        assert_eq!(words(0), 0);
    }
}
