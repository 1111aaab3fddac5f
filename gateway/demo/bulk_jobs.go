package demo

import (
	"slices"
	"sync"
	"time"
)

// maxJobs bounds the export jobs kept; the oldest is dropped first.
const maxJobs = 64

// job is a Bulk Data export: a snapshot of the versions to write, taken at
// kick-off, grouped by type.
type job struct {
	id      string
	request string
	at      time.Time
	polls   int
	files   []exportFile
}

type exportFile struct {
	typ string
	vs  []*version
}

// jobs holds the export jobs.
type jobs struct {
	mu    sync.Mutex
	m     map[string]*job
	order []string
}

func newJobs() *jobs { return &jobs{m: make(map[string]*job)} }

func (j *jobs) add(jb *job) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.order) >= maxJobs {
		delete(j.m, j.order[0])
		j.order = j.order[1:]
	}
	j.m[jb.id] = jb
	j.order = append(j.order, jb.id)
}

func (j *jobs) get(id string) *job {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.m[id]
}

func (j *jobs) remove(id string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, ok := j.m[id]; !ok {
		return false
	}
	delete(j.m, id)
	j.order = slices.DeleteFunc(j.order, func(s string) bool { return s == id })
	return true
}
