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

// isResponseType reports whether a Bundle type names a response to a
// batch or transaction, whose n-th entry answers the n-th request entry.
func isResponseType(name []byte) bool {
	switch string(name) {
	case "batch-response", "transaction-response":
		return true
	}
	return false
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
	// respond: a batch-response or transaction-response whose withheld
	// entries are replaced (Options.Replace), keeping their positions.
	respond bool
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
		response bool // a batch-response or transaction-response
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
