package stream

// ctxCheck replays the unit when the captured resource is known to be a
// wrapping Bundle; final is set at the resource's end.
func (f *Filter) ctxCheck(i int, final bool) bool {
	c := &f.ctx
	if c.rt != rtBundle || c.btype == btAtomic || len(f.bundles) >= maxBundleNesting {
		return false
	}
	if !f.unitTop && f.entry.resCount > 1 {
		return false
	}
	if c.btype == btWrapping || c.sawEntry || final {
		f.replay(i)
		return true
	}
	return false
}

// replay re-lexes the captured unit (through cur[i-1]) with its resource
// streamed as a Bundle.
func (f *Filter) replay(i int) {
	f.flushTo(i)
	d := f.replayDepth
	f.replayDepth++
	for len(f.out.rbufs) <= d {
		f.out.rbufs = append(f.out.rbufs, nil)
	}
	rb := append(f.out.rbufs[d][:0], f.out.cap...)
	f.out.cap = f.out.cap[:0]
	cur := f.cur
	f.stack = f.stack[:f.unitStack]
	f.state = f.unitState
	f.acc, f.wantValue, f.nextRole = false, false, roleNone
	f.descend = true
	if f.unitTop {
		f.sink = sinkOut
	} else if f.unitState == stValueOrClose { // the first entry: no comma
		f.keepUnit(&f.bundles[f.stack[f.unitStack-1].aux], i, false)
	} // else the comma that starts rb calls keepUnit
	f.run(rb)
	if cap(rb) > pieceSize {
		rb = nil // do not keep a large buffer per depth
	}
	f.out.rbufs[d] = rb
	f.replayDepth--
	f.cur, f.mark = cur, i
}

// startUnit starts capturing an entry unit at cur[i]; st is the lexer
// state there.
func (f *Filter) startUnit(b *bundleState, i int, st lexState) {
	b.unit = unitCaptured
	f.unitTop, f.unitStack, f.unitState = false, len(f.stack), st
	f.setSink(sinkCap, i)
	f.out.cap = f.out.cap[:0]
	f.entry.resCount, f.entry.resStart, f.entry.resEnd, f.entry.mode = 0, 0, 0, ""
}

// keepUnit starts streaming an entry unit at cur[i] (a comma when comma).
func (f *Filter) keepUnit(b *bundleState, i int, comma bool) {
	b.unit = unitKept
	f.openEntries(b)
	if comma && b.written == 0 {
		f.setSink(sinkDrop, i)
		f.dropComma = true
	} else {
		f.setSink(sinkOut, i)
	}
	b.written++
}

// unitEnd decides an entry unit that ended at cur[i-1].
func (f *Filter) unitEnd(b *bundleState, i int) {
	if b.unit != unitCaptured {
		f.setSink(sinkOut, i)
		return
	}
	f.flushTo(i)
	unit := f.out.cap
	withhold := false
	switch {
	case len(unit) > f.opts.MaxResource, f.entry.resCount > 1:
		f.st.Uninspected++
	case f.entry.resEnd > 0:
		withhold = f.inspect(unit[f.entry.resStart:f.entry.resEnd], f.entry.mode)
	}
	switch {
	case withhold && b.respond:
		b.withheld++
		f.replaceEntry(b)
		f.sink = sinkOut
	case withhold:
		b.withheld++
		if m := f.entry.mode; m == "" || m == "match" {
			b.matchesWithheld++
		}
		f.sink = sinkDrop
	default:
		f.openEntries(b)
		if b.written == 0 && len(unit) > 0 && unit[0] == ',' {
			unit = unit[1:]
		}
		f.write(unit)
		b.written++
		f.sink = sinkOut
	}
	f.out.cap = f.out.cap[:0]
}

// replaceEntry writes, in place of the entry just withheld from b (a
// response Bundle), the entry Options.Replace makes of it.
func (f *Filter) replaceEntry(b *bundleState) {
	f.openEntries(b)
	if b.written > 0 {
		f.write([]byte{','})
	}
	f.write(f.opts.Replace(f.lastWithheld))
	b.written++
}

// closeEntries ends an entry array at cur[i] (its ']'): the member is
// omitted when every entry was withheld and nothing is disclosed.
func (f *Filter) closeEntries(b *bundleState, i int) {
	f.flushTo(i)
	var ws []byte // whitespace of an array with no entry at all
	if f.sink == sinkCap {
		ws = f.out.cap
	}
	var disclose []byte
	if b.withheld > 0 && f.opts.Disclose != nil && !b.respond {
		disclose = f.opts.Disclose(f.bw[b.bwStart:])
	}
	f.bw = f.bw[:b.bwStart]
	sink := sinkOut
	switch {
	case b.written == 0 && b.withheld == 0:
		f.openEntries(b)
		f.write(ws)
	case b.written == 0 && len(disclose) == 0:
		f.out.pend = f.out.pend[:0]
		sink = sinkDrop
	default:
		if len(disclose) > 0 {
			if b.written == 0 {
				f.openEntries(b)
			} else {
				f.write([]byte{','})
			}
			f.write(disclose)
		}
		f.write(ws)
	}
	f.out.cap = f.out.cap[:0]
	f.sink = sink
}

// openEntries writes the pending "entry":[ of b, if still pending.
func (f *Filter) openEntries(b *bundleState) {
	if len(f.out.pend) > 0 {
		f.emitPend(b)
	}
}

// emitPend writes the pending member prefix, without its leading comma
// when no member of b was written before it.
func (f *Filter) emitPend(b *bundleState) {
	p := f.out.pend
	if !b.memberWritten && len(p) > 0 && p[0] == ',' {
		p = p[1:]
	}
	f.write(p)
	f.out.pend = f.out.pend[:0]
	b.memberWritten = true
}

// pushBundle opens the state of a streamed Bundle and returns its index.
func (f *Filter) pushBundle() int32 {
	n := len(f.bundles)
	if n < cap(f.bundles) {
		f.bundles = f.bundles[:n+1]
		f.bundles[n] = bundleState{total: f.bundles[n].total[:0]}
	} else {
		f.bundles = append(f.bundles, bundleState{})
	}
	f.bundles[n].bwStart = len(f.bw)
	f.bundles[n].respond = f.ctx.response && f.opts.Replace != nil
	return int32(n)
}

// writeTotal writes b's held total, less the matches withheld.
func (f *Filter) writeTotal(b *bundleState) {
	t := b.total
	n, ok := 0, len(t) > 0 && len(t) < 19
	for _, c := range t {
		if c < '0' || c > '9' {
			ok = false
			break
		}
		n = n*10 + int(c-'0')
	}
	if !ok || b.matchesWithheld == 0 {
		f.write(t)
	} else {
		var buf [20]byte
		f.write(appendInt(buf[:0], max(n-b.matchesWithheld, 0)))
	}
	b.totalHeld = false
}

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

// overflow turns the unit being captured, which exceeded MaxResource, into
// a streamed, uninspected one.
func (f *Filter) overflow() {
	f.st.Uninspected++
	for k := f.unitStack; k < len(f.stack); k++ {
		f.stack[k].role = roleNone
	}
	f.acc = false
	unit := f.out.cap
	if f.unitTop {
		f.topUnit = unitPassed
		f.write(unit)
	} else {
		b := &f.bundles[f.stack[f.unitStack-1].aux]
		b.unit = unitPassed
		f.openEntries(b)
		if b.written == 0 && len(unit) > 0 && unit[0] == ',' {
			unit = unit[1:]
		}
		f.write(unit)
		b.written++
	}
	f.out.cap = f.out.cap[:0]
	f.sink = sinkOut
}

// finish handles the end of input.
func (f *Filter) finish() {
	if f.carrying { // the body ended inside it
		f.lex(f.carry, f.carryBase)
		if f.err != nil || f.passAll {
			return
		}
	}
	f.cur, f.mark, f.base = nil, 0, f.st.BytesIn
	if f.state == stNumber && f.numberDone() {
		f.valueEnd(0)
	}
	if f.state == stTopAfter || f.opts.Kind == KindNDJSON && f.state == stTop {
		return
	}
	f.malformed(0, "unexpected end of input")
}
