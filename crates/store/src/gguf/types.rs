//! GGML tables: tensor element types (name, block size, bytes per block)
//! and the `general.file_type` codes with Ollama's names for them.

/// Layout of one ggml tensor type: `block` elements take `bytes` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeLayout {
    pub name: &'static str,
    pub block: u64,
    pub bytes: u64,
}

const fn layout(name: &'static str, block: u64, bytes: u64) -> Option<TypeLayout> {
    Some(TypeLayout { name, block, bytes })
}

/// Layout of ggml type `id`, or `None` for removed or unknown types
/// (`Q4_2`, `Q4_3`, the repacked `*_4_4`/`*_8_8` variants, future ids).
/// Sizes follow ggml's `type_traits` (and Ollama's `TypeSize`).
pub fn tensor_type(id: u32) -> Option<TypeLayout> {
    match id {
        0 => layout("F32", 1, 4),
        1 => layout("F16", 1, 2),
        2 => layout("Q4_0", 32, 18),
        3 => layout("Q4_1", 32, 20),
        6 => layout("Q5_0", 32, 22),
        7 => layout("Q5_1", 32, 24),
        8 => layout("Q8_0", 32, 34),
        9 => layout("Q8_1", 32, 36),
        10 => layout("Q2_K", 256, 84),
        11 => layout("Q3_K", 256, 110),
        12 => layout("Q4_K", 256, 144),
        13 => layout("Q5_K", 256, 176),
        14 => layout("Q6_K", 256, 210),
        15 => layout("Q8_K", 256, 292),
        16 => layout("IQ2_XXS", 256, 66),
        17 => layout("IQ2_XS", 256, 74),
        18 => layout("IQ3_XXS", 256, 98),
        19 => layout("IQ1_S", 256, 50),
        20 => layout("IQ4_NL", 32, 18),
        21 => layout("IQ3_S", 256, 110),
        22 => layout("IQ2_S", 256, 82),
        23 => layout("IQ4_XS", 256, 136),
        24 => layout("I8", 1, 1),
        25 => layout("I16", 1, 2),
        26 => layout("I32", 1, 4),
        27 => layout("I64", 1, 8),
        28 => layout("F64", 1, 8),
        29 => layout("IQ1_M", 256, 56),
        30 => layout("BF16", 1, 2),
        34 => layout("TQ1_0", 256, 54),
        35 => layout("TQ2_0", 256, 66),
        39 => layout("MXFP4", 32, 17),
        40 => layout("NVFP4", 64, 36),
        41 => layout("Q1_0", 128, 18),
        _ => None,
    }
}

/// Name of ggml type `id` as `/api/show` prints it (`unknown` if unknown).
pub fn tensor_type_name(id: u32) -> &'static str {
    tensor_type(id).map_or("unknown", |t| t.name)
}

/// Ollama's name for a `general.file_type` code (`unknown` if none).
pub fn file_type_name(code: u64) -> &'static str {
    const NAMES: [&str; 41] = [
        "F32",
        "F16",
        "Q4_0",
        "Q4_1",
        "",
        "",
        "",
        "Q8_0",
        "Q5_0",
        "Q5_1", // 0-9
        "Q2_K",
        "Q3_K_S",
        "Q3_K_M",
        "Q3_K_L",
        "Q4_K_S",
        "Q4_K_M",
        "Q5_K_S", // 10-16
        "Q5_K_M",
        "Q6_K",
        "IQ2_XXS",
        "IQ2_XS",
        "Q2_K_S",
        "IQ3_XS",
        "IQ3_XXS", // 17-23
        "IQ1_S",
        "IQ4_NL",
        "IQ3_S",
        "IQ3_M",
        "IQ2_S",
        "IQ2_M",
        "IQ4_XS", // 24-30
        "IQ1_M",
        "BF16",
        "",
        "",
        "",
        "TQ1_0",
        "TQ2_0",
        "MXFP4_MOE",
        "NVFP4", // 31-39
        "Q1_0",  // 40
    ];
    usize::try_from(code)
        .ok()
        .and_then(|i| NAMES.get(i))
        .copied()
        .filter(|n| !n.is_empty())
        .unwrap_or("unknown")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_quant_and_legacy_sizes() {
        let size = |id| tensor_type(id).map(|t| (t.block, t.bytes));
        assert_eq!(size(2), Some((32, 18)));
        assert_eq!(size(8), Some((32, 34)));
        assert_eq!(size(12), Some((256, 144)));
        assert_eq!(size(14), Some((256, 210)));
        assert_eq!(size(30), Some((1, 2)));
        for gone in [4, 5, 31, 32, 33, 36, 37, 38, 42, u32::MAX] {
            assert_eq!(tensor_type(gone), None, "{gone}");
        }
        assert_eq!(tensor_type_name(12), "Q4_K");
        assert_eq!(tensor_type_name(4), "unknown");
    }

    #[test]
    fn file_type_names_match_ollama() {
        assert_eq!(file_type_name(0), "F32");
        assert_eq!(file_type_name(1), "F16");
        assert_eq!(file_type_name(2), "Q4_0");
        assert_eq!(file_type_name(7), "Q8_0");
        assert_eq!(file_type_name(15), "Q4_K_M");
        assert_eq!(file_type_name(18), "Q6_K");
        assert_eq!(file_type_name(32), "BF16");
        assert_eq!(file_type_name(38), "MXFP4_MOE");
        assert_eq!(file_type_name(4), "unknown");
        assert_eq!(file_type_name(41), "unknown");
        assert_eq!(file_type_name(u64::MAX), "unknown");
    }
}
