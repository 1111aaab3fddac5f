package postgres

import (
	"time"

	"github.com/ehigate/ehigate/decision/store"
)

// recordCols are the record projections of one batch, column by column
// (for one unnest upsert).
type recordCols struct {
	id, action, interaction, rtype, subject, client, issuer, class, exception, flags, policies []string
	at                                                                                         []time.Time
	status                                                                                     []int32
	doc                                                                                        [][]byte
	spooled                                                                                    []bool
}

type patientCols struct {
	patient, id []string
	at          []time.Time
}

// projections collects the batch's projections, the last one of each
// record winning (one upsert may not touch a row twice).
func projections(items []store.Item) (recordCols, patientCols) {
	var rc recordCols
	var pc patientCols
	idx := make(map[string]int, len(items))
	for i := range items {
		rec := items[i].Record
		if rec == nil {
			continue
		}
		doc, err := items[i].DocJSON()
		if err != nil {
			// A record always encodes; keep the row rather than lose it.
			doc = []byte(`{}`)
		}
		row := store.RowOf(rec)
		at := time.UnixMicro(row.ReceivedAt).UTC()
		spooled := items[i].Spooled
		if k, ok := idx[row.ID]; ok {
			rc.action[k], rc.status[k], rc.exception[k], rc.flags[k], rc.policies[k], rc.doc[k] =
				row.Action, int32(row.Status), row.Exception, row.Flags, row.Policies, doc
			rc.spooled[k] = rc.spooled[k] || spooled
		} else {
			idx[row.ID] = len(rc.id)
			rc.id = append(rc.id, row.ID)
			rc.at = append(rc.at, at)
			rc.action = append(rc.action, row.Action)
			rc.interaction = append(rc.interaction, row.Interaction)
			rc.rtype = append(rc.rtype, row.ResourceType)
			rc.subject = append(rc.subject, row.Subject)
			rc.client = append(rc.client, row.ClientID)
			rc.issuer = append(rc.issuer, row.Issuer)
			rc.class = append(rc.class, row.Class)
			rc.status = append(rc.status, int32(row.Status))
			rc.exception = append(rc.exception, row.Exception)
			rc.flags = append(rc.flags, row.Flags)
			rc.policies = append(rc.policies, row.Policies)
			rc.doc = append(rc.doc, doc)
			rc.spooled = append(rc.spooled, spooled)
		}
		for _, p := range row.Patients {
			pc.patient = append(pc.patient, p)
			pc.at = append(pc.at, at)
			pc.id = append(pc.id, row.ID)
		}
	}
	return rc, pc
}
