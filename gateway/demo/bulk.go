package demo

import (
	"bufio"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ehigate/ehigate/fhir"
)

// exportParams are the kick-off parameters, from the query or a
// Parameters body.
type exportParams struct {
	types    []string
	since    time.Time
	patients []string // POST patient parameter
}

func (c *call) exportParams() (exportParams, error) {
	var p exportParams
	vals := c.vals
	var patients []string
	if c.r.Method == post && c.r.ContentLength != 0 {
		b, err := c.body("")
		if err != nil {
			return p, err
		}
		var body struct {
			ResourceType string `json:"resourceType"`
			Parameter    []struct {
				Name           string `json:"name"`
				ValueString    string `json:"valueString"`
				ValueInstant   string `json:"valueInstant"`
				ValueReference struct {
					Reference string `json:"reference"`
				} `json:"valueReference"`
			} `json:"parameter"`
		}
		if json.Unmarshal(b, &body) != nil || body.ResourceType != "Parameters" {
			return p, newError(http.StatusBadRequest, "invalid", "an export POST body must be a Parameters resource")
		}
		vals = make(map[string][]string)
		for _, prm := range body.Parameter {
			switch prm.Name {
			case "patient":
				t, id, ok := splitRef(normRef(prm.ValueReference.Reference))
				if !ok || t != "Patient" {
					return p, newError(http.StatusBadRequest, "invalid", "patient parameter must reference a Patient")
				}
				patients = append(patients, id)
			default:
				vals[prm.Name] = append(vals[prm.Name], prm.ValueString+prm.ValueInstant)
			}
		}
	}
	if f := vals.Get("_outputFormat"); f != "" {
		switch f {
		case "application/fhir+ndjson", "application/ndjson", "ndjson":
		default:
			return p, newError(http.StatusBadRequest, "not-supported", "unsupported _outputFormat "+strconv.Quote(f))
		}
	}
	for _, raw := range vals["_type"] {
		for _, t := range strings.Split(raw, ",") {
			if !fhir.IsResourceType(t) {
				return p, newError(http.StatusBadRequest, "invalid", "unknown resource type "+strconv.Quote(t)+" in _type")
			}
			p.types = append(p.types, t)
		}
	}
	if s := vals.Get("_since"); s != "" {
		t, err := parseInstant(s)
		if err != nil {
			return p, newError(http.StatusBadRequest, "invalid", "_since is not an instant")
		}
		p.since = t
	}
	p.patients = patients
	return p, nil
}

// exportKickoff starts a system (typ ""), Patient or Group/id export.
func (c *call) exportKickoff(typ, id string) error {
	if !c.prefer.async {
		return newError(http.StatusBadRequest, "invalid", "Bulk Data export requires Prefer: respond-async")
	}
	p, err := c.exportParams()
	if err != nil {
		return err
	}
	st := c.s.st
	st.mu.RLock()
	var vs []*version
	switch {
	case typ == "":
		for _, t := range st.types {
			for _, e := range st.byType[t] {
				if v := e.live(); v != nil {
					vs = append(vs, v)
				}
			}
		}
	default:
		patients := p.patients
		if typ == "Group" {
			g := st.get("Group", id).live()
			if g == nil {
				st.mu.RUnlock()
				return newError(http.StatusNotFound, "not-found", "Group/"+id+" is not known")
			}
			patients = groupMembers(g)
		} else if len(patients) == 0 {
			for _, e := range st.byType["Patient"] {
				patients = append(patients, e.id)
			}
		}
		vs = st.compartments(patients)
	}
	st.mu.RUnlock()
	jb := &job{id: strings.ToLower(rand.Text()), request: c.base + "/" + c.path, at: c.s.now()}
	if c.r.URL.RawQuery != "" {
		jb.request += "?" + c.r.URL.RawQuery
	}
	byType := map[string]int{}
	for _, v := range vs {
		if (len(p.types) > 0 && !slices.Contains(p.types, v.typ)) || (!p.since.IsZero() && !v.updated.After(p.since)) {
			continue
		}
		i, ok := byType[v.typ]
		if !ok {
			i = len(jb.files)
			byType[v.typ] = i
			jb.files = append(jb.files, exportFile{typ: v.typ})
		}
		jb.files[i].vs = append(jb.files[i].vs, v)
	}
	c.s.jobs.add(jb)
	c.w.Header().Set("Content-Location", c.base+"/bulkstatus/"+jb.id)
	c.send(http.StatusAccepted, appendOutcome(nil, "information", "informational", "export job accepted"))
	return nil
}

// groupMembers returns the Patient ids of Group.member.entity.
func groupMembers(g *version) []string {
	var body struct {
		Member []struct {
			Entity struct {
				Reference string `json:"reference"`
			} `json:"entity"`
		} `json:"member"`
	}
	_ = json.Unmarshal(g.raw, &body)
	var out []string
	for _, m := range body.Member {
		if t, id, ok := splitRef(normRef(m.Entity.Reference)); ok && t == "Patient" {
			out = append(out, id)
		}
	}
	return out
}

// compartments returns the live resources in the compartments of patients,
// each once. The caller holds st.mu.
func (st *store) compartments(patients []string) []*version {
	seen := make(map[*version]bool)
	var out []*version
	for _, p := range patients {
		for _, e := range st.byPatient[p] {
			v := e.live()
			if v == nil || seen[v] {
				continue
			}
			if _, in := slices.BinarySearch(v.ix.patients, p); in {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	return out
}

// bulkStatus answers a poll (GET) or a cancel (DELETE) of an export job.
func (c *call) bulkStatus(id string) error {
	m := c.method()
	if m != get && m != del {
		return notAllowed(get, del)
	}
	if m == del {
		if !c.s.jobs.remove(id) {
			return newError(http.StatusNotFound, "not-found", "no such export job")
		}
		c.send(http.StatusAccepted, appendOutcome(nil, "information", "informational", "export job cancelled"))
		return nil
	}
	jb := c.s.jobs.get(id)
	if jb == nil {
		return newError(http.StatusNotFound, "not-found", "no such export job")
	}
	c.s.jobs.mu.Lock()
	polls := jb.polls
	if polls < c.s.polls {
		jb.polls++
	}
	c.s.jobs.mu.Unlock()
	if polls < c.s.polls {
		h := c.w.Header()
		h.Set("X-Progress", "in progress ("+strconv.Itoa((polls+1)*100/(c.s.polls+1))+"%)")
		h.Set("Retry-After", "1")
		c.w.WriteHeader(http.StatusAccepted)
		return nil
	}
	out := make([]obj, 0, len(jb.files))
	for _, f := range jb.files {
		out = append(out, obj{
			{"type", f.typ},
			{"url", c.base + "/bulkfiles/" + jb.id + "/" + f.typ + ".ndjson"},
			{"count", len(f.vs)},
		})
	}
	b, err := marshal(obj{
		{"transactionTime", jb.at.Format(instantLayout)},
		{"request", jb.request},
		{"requiresAccessToken", true},
		{"output", out},
		{"error", []obj{}},
	})
	if err != nil {
		return err
	}
	c.header("application/json")
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write(b)
	return nil
}

// bulkFile streams one NDJSON output file.
func (c *call) bulkFile(id, name string) error {
	jb := c.s.jobs.get(id)
	typ, ok := strings.CutSuffix(name, ".ndjson")
	if jb == nil || !ok {
		return newError(http.StatusNotFound, "not-found", "no such export file")
	}
	for _, f := range jb.files {
		if f.typ != typ {
			continue
		}
		c.header("application/fhir+ndjson")
		c.w.WriteHeader(http.StatusOK)
		bw := writers.Get().(*bufio.Writer)
		bw.Reset(c.w)
		for _, v := range f.vs {
			_, _ = bw.Write(v.raw)
			_ = bw.WriteByte('\n')
		}
		err := bw.Flush()
		bw.Reset(nil)
		writers.Put(bw)
		return err
	}
	return newError(http.StatusNotFound, "not-found", "no such export file")
}
