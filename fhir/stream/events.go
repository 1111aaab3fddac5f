package stream

// How the Filter walks a body.
//
// A unit is what is decided on as a whole: a Bundle entry (from the comma
// before it, or from just after '[' for the first one, to the end of the
// entry object), a top-level resource or an NDJSON line. A unit is
// captured until it ends, then inspected and written or dropped; at most
// one unit is captured at a time, so memory is bounded by MaxResource.
//
// A captured resource whose resourceType is Bundle and whose type only
// wraps entries (anything but document and message) is not inspected
// whole: as soon as that is known (at its type, at its entry member, or at
// its end) the unit is replayed from its first byte with the resource
// treated as a Bundle. Its bytes are then streamed and its own entries
// become units. Replays are bounded by maxBundleNesting.
//
// A streamed Bundle's members are written as they come, except that the
// bytes from the separating comma up to each member's ':' are pending
// until the name is known: "entry" stays pending until an entry is kept
// (so an entry array left empty is omitted with its comma) and "total" is
// held when FixTotal is set.

// role says what an open object or array is to the Filter.
type role uint8

const (
	roleNone      role = iota
	roleCtx            // a captured resource not yet known to be a wrapping Bundle
	roleBundle         // a Bundle whose entries are filtered (streamed)
	roleEntries        // a streamed Bundle's entry array
	roleEntry          // a captured entry object
	roleKeptEntry      // a streamed entry object whose resource is a Bundle
	roleSearch         // a captured entry's search object
)

// tracksNames reports whether member names matter in an object of role r.
func (r role) tracksNames() bool { return r != roleNone && r != roleEntries }

type keyCode uint8

const (
	keyOther keyCode = iota
	keyResourceType
	keyType
	keyEntry
	keyTotal
	keyResource
	keySearch
	keyMode
)

func keyOf(name []byte) keyCode {
	switch string(name) {
	case "resourceType":
		return keyResourceType
	case "type":
		return keyType
	case "entry":
		return keyEntry
	case "total":
		return keyTotal
	case "resource":
		return keyResource
	case "search":
		return keySearch
	case "mode":
		return keyMode
	}
	return keyOther
}

// bundleType says whether a Bundle only wraps entries.
type bundleType uint8

const (
	btUnknown  bundleType = iota
	btWrapping            // searchset, history, collection, batch, transaction and their responses, and any other
	btAtomic              // document, message: a resource in its own right, inspected whole
)

func bundleTypeName(name []byte) bundleType {
	switch string(name) {
	case "document", "message":
		return btAtomic
	}
	return btWrapping
}

// bundleTypeOf classifies the raw JSON value of Bundle.type.
func bundleTypeOf(raw []byte) bundleType {
	if len(raw) < 2 || raw[0] != '"' {
		return btUnknown
	}
	return bundleTypeName(raw[1 : len(raw)-1])
}

func modeName(name []byte) string {
	switch string(name) {
	case "match":
		return "match"
	case "include":
		return "include"
	case "outcome":
		return "outcome"
	case "":
		return ""
	}
	return string(name)
}

type rtKind uint8

const (
	rtUnknown rtKind = iota
	rtBundle
	rtOther
)

// unitMode is how a unit is being handled.
type unitMode uint8

const (
	unitCaptured unitMode = iota // held back until it ends
	unitKept                     // streamed: its resource is a Bundle being filtered
	unitPassed                   // streamed uninspected: it exceeded MaxResource
)

// bundleState is the state of one streamed Bundle.
type bundleState struct {
	memberWritten   bool // a member has been written: later ones keep their comma
	entriesDone     bool // an entry array has ended
	totalHeld       bool
	total           []byte // the held total value
	written         int    // entries written from the current entry array
	withheld        int    // entries withheld from the current entry array
	matchesWithheld int    // withheld entries that total counts
	unit            unitMode
	bwStart         int // this Bundle's withheld list is Filter.bw[bwStart:]
}

// walker is the Filter's structural state.
type walker struct {
	nextRole  role  // role of the container about to open
	nextAux   int32 // its aux
	wantValue bool  // accumulate the string value about to start

	dropLine  bool // NDJSON: drop whitespace up to the next newline
	dropComma bool // drop the comma being consumed
	descend   bool // the unit being replayed holds a Bundle to stream

	bundles []bundleState
	bw      []Withheld

	// The unit being captured.
	unitTop   bool     // a top-level value (or NDJSON line), not an entry
	unitStack int      // stack depth where it started
	unitState lexState // lexer state where it started
	topUnit   unitMode

	ctx struct {
		rt       rtKind
		btype    bundleType
		sawEntry bool
	}
	entry struct {
		resCount         int
		resStart, resEnd int // the resource in the capture buffer
		mode             string
	}
	replayDepth int
}

// outputs are the Filter's held-back bytes.
type outputs struct {
	cap   []byte   // the unit being captured
	pend  []byte   // a streamed Bundle member's name, until it is known
	rbufs [][]byte // replay buffers, one per replay depth
}

// topValueStart is called before the top-level value starting at cur[i].
func (f *Filter) topValueStart(i int, c byte) {
	if c != '{' {
		f.topUnit = unitKept // not a resource: streamed as is
		return
	}
	if f.descend {
		f.descend = false
		f.topUnit = unitKept
		f.nextRole = roleBundle
		return
	}
	f.topUnit = unitCaptured
	f.unitTop, f.unitStack, f.unitState = true, 0, stTop
	f.setSink(sinkCap, i)
	f.out.cap = f.out.cap[:0]
	f.ctx.rt, f.ctx.btype, f.ctx.sawEntry = rtUnknown, btUnknown, false
	f.nextRole = roleCtx
}

// topValueEnd is called after the top-level value's last byte, cur[i-1].
func (f *Filter) topValueEnd(i int) {
	f.state = stTopAfter
	if f.topUnit != unitCaptured {
		return
	}
	f.flushTo(i)
	unit := f.out.cap
	withhold := false
	if len(unit) > f.opts.MaxResource {
		f.st.Uninspected++
	} else {
		withhold = f.inspect(unit, "")
	}
	switch {
	case !withhold:
		f.write(unit)
		f.sink = sinkOut
	case f.opts.Kind == KindNDJSON:
		f.dropLine = true
		f.sink = sinkDrop
	default:
		f.st.WithheldAll = true
		f.sink = sinkDrop
	}
	f.out.cap = f.out.cap[:0]
}

// childStart is called before a value starting at cur[i] inside the top
// frame; it picks the role of a container about to open.
func (f *Filter) childStart(i int, c byte) {
	top := &f.stack[len(f.stack)-1]
	switch top.role {
	case roleBundle:
		switch top.key {
		case keyEntry:
			if c == '[' {
				f.nextRole, f.nextAux = roleEntries, top.aux
			} else {
				f.flushTo(i)
				f.emitPend(&f.bundles[top.aux])
				f.sink = sinkOut
			}
		case keyTotal:
			if f.opts.FixTotal {
				b := &f.bundles[top.aux]
				f.setSink(sinkTotal, i)
				b.total = b.total[:0]
			}
		}
	case roleEntries:
		if c != '{' {
			return
		}
		if f.descend {
			f.descend = false
			f.nextRole = roleKeptEntry
		} else if f.bundles[top.aux].unit == unitCaptured {
			f.nextRole = roleEntry
		}
	case roleEntry:
		switch top.key {
		case keyResource:
			f.entry.resCount++
			if c == '{' && f.entry.resCount == 1 {
				f.nextRole = roleCtx
				f.ctx.rt, f.ctx.btype, f.ctx.sawEntry = rtUnknown, btUnknown, false
				f.entry.resStart = f.capPos(i)
			}
		case keySearch:
			if c == '{' {
				f.nextRole = roleSearch
			}
		}
	case roleKeptEntry:
		if top.key == keyResource {
			if top.aux++; top.aux == 1 && c == '{' {
				f.nextRole = roleBundle
			} else {
				f.st.Uninspected++ // a second resource member: not filtered
			}
		}
	case roleCtx:
		if c == '"' && (top.key == keyResourceType || top.key == keyType) {
			f.wantValue = true
		}
	case roleSearch:
		if c == '"' && top.key == keyMode {
			f.wantValue = true
		}
	}
}

// afterOpen is called after a container's first byte, cur[i-1].
func (f *Filter) afterOpen(i int) {
	top := &f.stack[len(f.stack)-1]
	switch top.role {
	case roleBundle:
		top.aux = f.pushBundle()
		f.setSink(sinkPend, i)
	case roleEntries:
		b := &f.bundles[top.aux]
		b.written, b.withheld = 0, 0
		f.startUnit(b, i, stValueOrClose)
	}
}

// onName is called after a tracked member name; it reports a replay.
func (f *Filter) onName(i int) bool {
	top := &f.stack[len(f.stack)-1]
	top.key = keyOf(f.token())
	if top.role == roleCtx && top.key == keyEntry {
		f.ctx.sawEntry = true
		return f.ctxCheck(i, false)
	}
	return false
}

// afterColon is called after a ':' (cur[i-1]).
func (f *Filter) afterColon(i int) {
	top := &f.stack[len(f.stack)-1]
	if top.role != roleBundle {
		return
	}
	if top.key == keyEntry || top.key == keyTotal && f.opts.FixTotal {
		return // decided at the value
	}
	f.flushTo(i)
	f.emitPend(&f.bundles[top.aux])
	f.sink = sinkOut
}

// onString is called after a tracked string value; it reports a replay.
func (f *Filter) onString(i int) bool {
	top := &f.stack[len(f.stack)-1]
	switch top.role {
	case roleCtx:
		switch top.key {
		case keyResourceType:
			if string(f.token()) == "Bundle" {
				f.ctx.rt = rtBundle
			} else {
				f.ctx.rt = rtOther
			}
		case keyType:
			f.ctx.btype = bundleTypeName(f.token())
		}
		return f.ctxCheck(i, false)
	case roleSearch:
		if top.key == keyMode {
			f.entry.mode = modeName(f.token())
		}
	}
	return false
}

// beforeComma is called before a ',' at cur[i] after a value.
func (f *Filter) beforeComma(i int) {
	top := &f.stack[len(f.stack)-1]
	switch top.role {
	case roleBundle:
		f.setSink(sinkPend, i)
	case roleEntries:
		b := &f.bundles[top.aux]
		if f.descend {
			f.keepUnit(b, i, true)
		} else {
			f.startUnit(b, i, stAfter)
		}
	}
}

// beforeClose is called before the '}' or ']' at cur[i] closing top.
func (f *Filter) beforeClose(top frame, i int) {
	switch top.role {
	case roleBundle:
		b := &f.bundles[top.aux]
		if f.sink == sinkPend { // no member at all
			f.flushTo(i)
			f.write(f.out.pend)
			f.out.pend = f.out.pend[:0]
		}
		f.setSink(sinkOut, i)
		if b.totalHeld {
			if b.memberWritten {
				f.write([]byte(`,"total":`))
			} else {
				f.write([]byte(`"total":`))
			}
			f.writeTotal(b)
		}
	case roleEntries:
		f.closeEntries(&f.bundles[top.aux], i)
	}
}

// afterClose is called after top was closed by cur[i-1]; it reports a
// replay.
func (f *Filter) afterClose(top frame, i int) bool {
	switch top.role {
	case roleBundle:
		f.bw = f.bw[:f.bundles[top.aux].bwStart]
		f.bundles = f.bundles[:top.aux]
	case roleEntries:
		f.bundles[top.aux].entriesDone = true
		f.setSink(sinkOut, i)
	case roleCtx:
		if f.ctxCheck(i, true) {
			return true
		}
		if !f.unitTop {
			f.entry.resEnd = f.capPos(i)
		}
	}
	return false
}

// childEnd is called after a value inside the top frame ended at cur[i-1].
func (f *Filter) childEnd(i int) {
	top := &f.stack[len(f.stack)-1]
	switch top.role {
	case roleBundle:
		if top.key == keyTotal && f.opts.FixTotal {
			b := &f.bundles[top.aux]
			f.flushTo(i)
			if b.entriesDone { // the count is known: fix it in place
				f.emitPend(b)
				f.writeTotal(b)
			} else {
				f.out.pend = f.out.pend[:0]
				b.totalHeld = true
			}
			f.sink = sinkOut
		}
	case roleEntries:
		f.unitEnd(&f.bundles[top.aux], i)
	}
}

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
	if withhold {
		b.withheld++
		if m := f.entry.mode; m == "" || m == "match" {
			b.matchesWithheld++
		}
		f.sink = sinkDrop
	} else {
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

// closeEntries ends an entry array at cur[i] (its ']'): the member is
// omitted when every entry was withheld and nothing is disclosed.
func (f *Filter) closeEntries(b *bundleState, i int) {
	f.flushTo(i)
	var ws []byte // whitespace of an array with no entry at all
	if f.sink == sinkCap {
		ws = f.out.cap
	}
	var disclose []byte
	if b.withheld > 0 && f.opts.Disclose != nil {
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
	f.cur, f.mark, f.base = nil, 0, f.st.BytesIn
	if f.state == stNumber && f.numberDone() {
		f.valueEnd(0)
	}
	if f.state == stTopAfter || f.opts.Kind == KindNDJSON && f.state == stTop {
		return
	}
	f.malformed(0, "unexpected end of input")
}
