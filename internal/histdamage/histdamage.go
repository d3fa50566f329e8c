// Package histdamage damages the text of a history file in the ways the
// readers' damage properties are stated for: an op cut short with the rest
// of the file after it, and one byte inserted into an op or deleted from
// it. The JSON Lines and EDN readers' tests both use it, so both are held
// to the same damage. A place is chosen from a number (a fuzzer's input),
// so that every choice can be reached and replayed.
package histdamage

// Cut returns in with the op in in[span[0]:span[1]] cut short at a byte
// chosen by at, and what is left of the op. At least the op's first byte
// is left, and everything after the op stays, so the cut op is not the
// last. The op must be at least 2 bytes long.
func Cut(in []byte, span [2]int, at uint32) (out, op []byte) {
	start, end := span[0], span[1]
	k := start + 1 + int(at%uint32(end-start-1))
	out = append(append([]byte(nil), in[:k]...), in[end:]...)
	return out, in[start:k]
}

// Edit returns in with one byte of inserts inserted into the op in
// in[span[0]:span[1]], or one of its bytes deleted, chosen by at, and the
// op as edited. An insertion goes strictly inside the op (one in front of
// it would be between ops); a deletion may take its first byte. The op
// must not be empty.
func Edit(in []byte, span [2]int, at uint32, inserts string) (out, op []byte) {
	start, end := span[0], span[1]
	k := start + int(at%uint32(end-start))
	if c := int(at / 97 % uint32(len(inserts)+1)); c < len(inserts) && k > start {
		out = append(append(append([]byte(nil), in[:k]...), inserts[c]), in[k:]...)
		return out, out[start : end+1]
	}
	out = append(append([]byte(nil), in[:k]...), in[k+1:]...)
	return out, out[start : end-1]
}
