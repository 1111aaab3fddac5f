package admin

import "net/url"

func urlValues(v map[string][]string) url.Values { return url.Values(v) }
