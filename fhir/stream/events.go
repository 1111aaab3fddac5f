package stream

// The structural hooks the lexer calls; see walk.go for the model.

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
	f.ctx.rt, f.ctx.btype, f.ctx.sawEntry, f.ctx.response = rtUnknown, btUnknown, false, false
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
				f.ctx.rt, f.ctx.btype, f.ctx.sawEntry, f.ctx.response = rtUnknown, btUnknown, false, false
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
			f.ctx.response = isResponseType(f.token())
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
