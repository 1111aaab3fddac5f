package report

import "strconv"

func strconvFormat(n int64) string { return strconv.FormatInt(n, 10) }

func strconvFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
