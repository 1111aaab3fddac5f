package stream

// lexString lexes string content from p[i].
func (f *Filter) lexString(p []byte, i int) int {
	if f.acc {
		for i < len(p) && !strStop[p[i]] {
			f.addTok(p[i])
			i++
		}
	} else {
		i = stringStop(p, i)
	}
	if i == len(p) {
		return i
	}
	switch c := p[i]; {
	case c == '"':
		i++
		if f.strKey {
			f.state = stColon
			if f.acc && f.onName(i) {
				return i // replayed
			}
			return i
		}
		if f.acc && f.onString(i) {
			return i // replayed
		}
		f.valueEnd(i)
		return i
	case c == '\\':
		f.state = stEsc
		return i + 1
	}
	f.malformed(i, "control character in string")
	return i
}

// lexEscape lexes the rest of a backslash escape.
func (f *Filter) lexEscape(p []byte, i int) int {
	c := p[i]
	if f.state == stHex {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			f.malformed(i, "bad \\u escape")
			return i
		}
		f.hexV = f.hexV<<4 | rune(v)
		if f.hexN++; f.hexN == 4 {
			if f.hexV < 0x80 {
				f.addTok(byte(f.hexV))
			} else {
				f.addTok(0xff) // never part of a name the Filter looks for
			}
			f.state = stString
		}
		return i + 1
	}
	switch c {
	case '"', '\\', '/':
		f.addTok(c)
	case 'b':
		f.addTok('\b')
	case 'f':
		f.addTok('\f')
	case 'n':
		f.addTok('\n')
	case 'r':
		f.addTok('\r')
	case 't':
		f.addTok('\t')
	case 'u':
		f.state, f.hexN, f.hexV = stHex, 0, 0
		return i + 1
	default:
		f.malformed(i, "bad escape")
		return i
	}
	f.state = stString
	return i + 1
}

func (f *Filter) addTok(c byte) {
	if !f.acc {
		return
	}
	if f.tokN < len(f.tok) {
		f.tok[f.tokN] = c
	}
	f.tokN++ // past len(tok): too long to be a name the Filter looks for
}

// token returns the accumulated string, or "" when it was too long.
func (f *Filter) token() []byte {
	if f.tokN > len(f.tok) {
		return nil
	}
	return f.tok[:f.tokN]
}

// lexNumber lexes number bytes from p[i].
func (f *Filter) lexNumber(p []byte, i int) int {
	for ; i < len(p); i++ {
		c := p[i]
		digit := c >= '0' && c <= '9'
		switch f.num {
		case numMinus:
			switch {
			case c == '0':
				f.num = numZero
			case digit:
				f.num = numInt
			default:
				f.malformed(i, "bad number")
				return i
			}
			continue
		case numInt, numFrac, numExp:
			if digit {
				continue
			}
		case numDot, numESign:
			if !digit {
				f.malformed(i, "bad number")
				return i
			}
			f.num++ // numFrac, numExp
			continue
		case numE:
			switch {
			case c == '+' || c == '-':
				f.num = numESign
			case digit:
				f.num = numExp
			default:
				f.malformed(i, "bad number")
				return i
			}
			continue
		}
		// numZero, or a terminal state meeting a non-digit.
		if (f.num == numZero || f.num == numInt) && c == '.' {
			f.num = numDot
			continue
		}
		if f.num != numExp && (c == 'e' || c == 'E') {
			f.num = numE
			continue
		}
		f.valueEnd(i)
		return i
	}
	return i
}

// numberDone reports whether a number may end in the current state.
func (f *Filter) numberDone() bool {
	switch f.num {
	case numZero, numInt, numFrac, numExp:
		return true
	}
	return false
}

// lexLiteral lexes the rest of true, false or null.
func (f *Filter) lexLiteral(p []byte, i int) int {
	for ; i < len(p); i++ {
		if p[i] != f.lit[f.litN] {
			f.malformed(i, "bad literal")
			return i
		}
		if f.litN++; f.litN == len(f.lit) {
			i++
			f.valueEnd(i)
			return i
		}
	}
	return i
}
