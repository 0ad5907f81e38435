package date

// alts are the lengths a numeric field's alternatives match at a
// position, in the order of the template regex's alternation: the order in
// which a backtracking engine tries them, and so the hand-written matchers.
type alts struct {
	n [4]int
	k int
}

func (a *alts) add(ok bool, n int) {
	if ok {
		a.n[a.k] = n
		a.k++
	}
}

// list returns the lengths (valid while a is).
func (a *alts) list() []int { return a.n[:a.k] }

// dayAlts: %d, [1-2]\d | [0 ]?[1-9] | 3[0-1].
func dayAlts(l string, p int) (a alts) {
	a.add(p+1 < len(l) && (l[p] == '1' || l[p] == '2') && isDigit(l[p+1]), 2)
	a.add(p+1 < len(l) && (l[p] == '0' || l[p] == ' ') && l[p+1] >= '1' && l[p+1] <= '9', 2)
	a.add(p < len(l) && l[p] >= '1' && l[p] <= '9', 1)
	a.add(p+1 < len(l) && l[p] == '3' && (l[p+1] == '0' || l[p+1] == '1'), 2)
	return a
}

// minuteAlts: %M, [0-5]?\d.
func minuteAlts(l string, p int) (a alts) {
	a.add(p+1 < len(l) && l[p] >= '0' && l[p] <= '5' && isDigit(l[p+1]), 2)
	a.add(p < len(l) && isDigit(l[p]), 1)
	return a
}

// secondAlts: %S, [0-5]?\d | 6[0-1].
func secondAlts(l string, p int) (a alts) {
	a.add(p+1 < len(l) && l[p] >= '0' && l[p] <= '5' && isDigit(l[p+1]), 2)
	a.add(p < len(l) && isDigit(l[p]), 1)
	a.add(p+1 < len(l) && l[p] == '6' && (l[p+1] == '0' || l[p+1] == '1'), 2)
	return a
}

// isoHourAlts: %H, [0-1]?\d | 2[0-3].
func isoHourAlts(l string, p int) (a alts) {
	a.add(p+1 < len(l) && (l[p] == '0' || l[p] == '1') && isDigit(l[p+1]), 2)
	a.add(p < len(l) && isDigit(l[p]), 1)
	a.add(p+1 < len(l) && l[p] == '2' && l[p+1] >= '0' && l[p+1] <= '3', 2)
	return a
}

// monthAlts: %m, 0?[1-9] | 1[0-2].
func monthAlts(l string, p int) (a alts) {
	a.add(p+1 < len(l) && l[p] == '0' && l[p+1] >= '1' && l[p+1] <= '9', 2)
	a.add(p < len(l) && l[p] >= '1' && l[p] <= '9', 1)
	a.add(p+1 < len(l) && l[p] == '1' && l[p+1] >= '0' && l[p+1] <= '2', 2)
	return a
}

// minuteSecond matches "%M:%S" at p and then rest (what follows the
// seconds), and records the two fields.
func minuteSecond(l string, fv *fields, p int, rest func(int) (int, bool)) (int, bool) {
	a := minuteAlts(l, p)
	for _, n := range a.list() {
		if !followedBy(l, p+n, ':') {
			continue
		}
		q := p + n + 1
		b := secondAlts(l, q)
		for _, k := range b.list() {
			if e, ok := rest(q + k); ok {
				fv[fM], fv[fS] = l[p:p+n], l[q:q+k]
				return e, true
			}
		}
	}
	return 0, false
}

// lineStart returns where a start-of-line template's date may begin,
// after ^(?:\W{0,2})?: the up to two non-word characters in front (ok
// false when there are more).
func lineStart(line string) (int, bool) {
	k := 0
	for k < len(line) && k < 3 && !isASCIIWord(line[k]) {
		k++
	}
	return k, k <= 2
}

// followedBy reports whether l has c at p.
func followedBy(l string, p int, c byte) bool { return p < len(l) && l[p] == c }
