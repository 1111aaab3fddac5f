package fhir

import "slices"

// derive sets Patients and DataClasses from the path, the compartment and
// the parameters.
func derive(req *Request) {
	req.Patients = sortUnique(requestPatients(req, nil))
	req.DataClasses = requestClasses(req).names()
}

// requestPatients appends to out the ids of the Patients a request names in
// its path, compartment and parameters.
func requestPatients(req *Request, out []string) []string {
	if req.Compartment.Type == "Patient" {
		out = append(out, req.Compartment.ID)
	}
	if req.ResourceType == "Patient" && req.ID != "" {
		out = append(out, req.ID)
	}
	// Parameters name patients only where they are search criteria: not
	// on a read, a history or an unconditional write.
	criteria := req.Conditional || req.Interaction == SearchType || req.Interaction == SearchSystem || req.Interaction == Operation
	if len(req.Params) == 0 || !criteria {
		return out
	}
	switch {
	case IsResourceType(req.ResourceType):
		out = paramPatients(req.ResourceType, req.Params, out)
	case req.ResourceType == "*" || req.Interaction == SearchSystem || req.Level == LevelSystem:
		for i := range req.Params {
			if req.Params[i].Name != "_type" {
				continue
			}
			for _, t := range req.Params[i].Values {
				if IsResourceType(t) {
					out = paramPatients(t, req.Params, out)
				}
			}
		}
	}
	if req.Interaction == Operation {
		// Operation parameters such as $export's patient are references.
		for i := range req.Params {
			if p := &req.Params[i]; p.Name == "patient" && p.Modifier == "" && len(p.Chain) == 0 {
				for _, v := range p.Values {
					if id, ok := PatientID(v); ok {
						out = append(out, id)
					}
				}
			}
		}
	}
	return out
}

// paramPatients appends the Patient ids that search parameters on type t
// name: Patient _id values, and the values of reference parameters that can
// target Patient, when the value is a Patient reference (relative or
// absolute), or a bare id with a :Patient modifier or on a parameter that
// can only reference a Patient. Chains, _has and other modifiers (:not,
// :missing, :identifier, ...) name no Patient.
func paramPatients(t string, params []Param, out []string) []string {
	for i := range params {
		p := &params[i]
		if len(p.Chain) > 0 || len(p.Has) > 0 {
			continue
		}
		if t == "Patient" && p.Name == "_id" {
			if p.Modifier == "" {
				for _, v := range p.Values {
					if ValidID(v) {
						out = append(out, v)
					}
				}
			}
			continue
		}
		rp, ok := patientRefParam(t, p.Name)
		if !ok {
			continue
		}
		switch p.Modifier {
		case "":
			for _, v := range p.Values {
				if id, ok := PatientID(v); ok {
					out = append(out, id)
				} else if rp.PatientOnly && ValidID(v) {
					out = append(out, v)
				}
			}
		case "Patient":
			for _, v := range p.Values {
				if ValidID(v) {
					out = append(out, v)
				} else if id, ok := PatientID(v); ok {
					out = append(out, id)
				}
			}
		}
	}
	return out
}

// requestClasses returns the data classes a request may touch. Only
// searches (and $lastn) are narrowed by their category parameters: on a
// read or a write they select nothing.
func requestClasses(req *Request) classMask {
	switch req.Interaction {
	case InteractionUnknown, Capabilities, SmartConfiguration, BulkStatus, BulkFile, Batch, Transaction:
		return 0
	case HistorySystem:
		return allClasses
	case SearchSystem:
		return typesOrAll(req.Params) | includeClasses(req.Params)
	case SearchType:
		if req.ResourceType == "*" {
			return typesOrAll(req.Params) | includeClasses(req.Params)
		}
		return searchClasses(req.ResourceType, req.Params) | includeClasses(req.Params)
	case Operation:
		switch req.Operation {
		case "everything", "export":
			return typesOrAll(req.Params)
		case "lastn":
			return searchClasses(req.ResourceType, req.Params)
		}
		if req.Level == LevelSystem {
			return 0
		}
	}
	return typeClasses[req.ResourceType]
}

// typesOrAll returns the classes of the _type parameters' types, or every
// class when there is no _type.
func typesOrAll(params []Param) classMask {
	if m, ok := typesClasses(params); ok {
		return m
	}
	return allClasses
}

// sortUnique sorts ids and drops duplicates in place.
func sortUnique(ids []string) []string {
	if len(ids) < 2 {
		return ids
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// mergeIDs returns the sorted union of two sorted unique lists.
func mergeIDs(a, b []string) []string {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b
	}
	out := make([]string, 0, len(a)+len(b))
	out = append(append(out, a...), b...)
	slices.Sort(out)
	return slices.Compact(out)
}
