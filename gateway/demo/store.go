package demo

import (
	"slices"
	"strconv"
	"sync"
	"time"
)

// key identifies a resource.
type key struct{ typ, id string }

// version is one immutable version of a resource. Readers may keep it after
// releasing the store lock.
type version struct {
	typ, id string
	vid     int
	updated time.Time
	method  string // the request method recorded in history
	raw     []byte // stored JSON; nil when this version is a delete
	ix      *index // nil when this version is a delete
}

func (v *version) deleted() bool { return v.raw == nil }

func (v *version) etag() string { return `W/"` + strconv.Itoa(v.vid) + `"` }

// entry is a resource's version list.
type entry struct {
	typ, id  string
	versions []*version
	patients []string // the byPatient lists this entry was added to
}

// current returns the last version, nil when there is none.
func (e *entry) current() *version {
	if e == nil || len(e.versions) == 0 {
		return nil
	}
	return e.versions[len(e.versions)-1]
}

// live returns the current version unless it is a delete.
func (e *entry) live() *version {
	if v := e.current(); v != nil && !v.deleted() {
		return v
	}
	return nil
}

// store holds every version with indexes by key, type and Patient
// compartment. Callers hold mu.
type store struct {
	mu        sync.RWMutex
	entries   map[key]*entry
	types     []string // types in first-stored order
	byType    map[string][]*entry
	byPatient map[string][]*entry
	history   []*version
	seq       int
}

func newStore() *store {
	return &store{
		entries:   make(map[key]*entry),
		byType:    make(map[string][]*entry),
		byPatient: make(map[string][]*entry),
	}
}

// undo records what a transaction changed so that it can be rolled back.
type undo struct {
	marks   []mark
	history int
	seq     int
}

type mark struct {
	e *entry
	n int
}

func (st *store) begin() *undo { return &undo{history: len(st.history), seq: st.seq} }

// rollback restores the state begin saw. Entries created since stay in the
// maps with no versions, which every reader treats as absent.
func (st *store) rollback(u *undo) {
	for i := len(u.marks) - 1; i >= 0; i-- {
		m := u.marks[i]
		clear(m.e.versions[m.n:])
		m.e.versions = m.e.versions[:m.n]
	}
	clear(st.history[u.history:])
	st.history = st.history[:u.history]
	st.seq = u.seq
}

func (st *store) get(typ, id string) *entry { return st.entries[key{typ, id}] }

// nextVersion returns the version number the next write of typ/id gets.
func (st *store) nextVersion(typ, id string) int {
	if v := st.get(typ, id).current(); v != nil {
		return v.vid + 1
	}
	return 1
}

// newID returns a server-assigned id not used by typ.
func (st *store) newID(typ string) string {
	for {
		st.seq++
		id := strconv.Itoa(st.seq)
		if st.get(typ, id).current() == nil {
			return id
		}
	}
}

// add appends v to its resource (creating it) and to the indexes.
func (st *store) add(u *undo, v *version) {
	k := key{v.typ, v.id}
	e := st.entries[k]
	if e == nil {
		e = &entry{typ: v.typ, id: v.id}
		st.entries[k] = e
		if _, ok := st.byType[v.typ]; !ok {
			st.types = append(st.types, v.typ)
		}
		st.byType[v.typ] = append(st.byType[v.typ], e)
	}
	if u != nil {
		u.marks = append(u.marks, mark{e, len(e.versions)})
	}
	e.versions = append(e.versions, v)
	st.history = append(st.history, v)
	if v.ix == nil {
		return
	}
	for _, p := range v.ix.patients {
		if !slices.Contains(e.patients, p) {
			e.patients = append(e.patients, p)
			st.byPatient[p] = append(st.byPatient[p], e)
		}
	}
}

// write stores d as the next version of typ/id.
func (st *store) write(u *undo, d *doc, id, method string, now time.Time) (*version, error) {
	if d.ix == nil || d.id != id {
		d.id = id
		d.ix = buildIndex(d)
	}
	vid := st.nextVersion(d.typ, id)
	raw, err := stamp(make([]byte, 0, 256+sumLen(d.members)), d.typ, id, d.members, vid, now)
	if err != nil {
		return nil, newError(400, "invalid", "meta is not a JSON object")
	}
	v := &version{typ: d.typ, id: id, vid: vid, updated: now, method: method, raw: raw, ix: d.ix}
	st.add(u, v)
	return v, nil
}

// remove records a delete of e.
func (st *store) remove(u *undo, e *entry, now time.Time) *version {
	v := &version{typ: e.typ, id: e.id, vid: e.current().vid + 1, updated: now, method: "DELETE"}
	st.add(u, v)
	return v
}

func sumLen(ms []member) int {
	n := 0
	for _, m := range ms {
		n += len(m.key) + len(m.val) + 4
	}
	return n
}
