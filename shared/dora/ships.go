package dora

import "hash/maphash"

// changeKey identifies a change across the deployments of a service.
type changeKey struct{ service, sha string }

// firstShip is the earliest successful deployment found so far that shipped
// a change: when it finished, which deployment and which of its changes.
type firstShip struct {
	at         int64
	dep, index int32
}

// ships finds the first successful deployment of each change (a service's
// commit SHA) among those that shipped it in the window, then lets earlier
// deployments take the changes they shipped before it. Only the window's
// changes are ever stored, under a 64-bit hash of their key (a map of
// integers is several times faster than one of string pairs for millions of
// changes); a different change under a hash already taken, which the keys
// compared on every hit would reveal, goes to clash instead.
type ships struct {
	seed  maphash.Seed
	ds    []Deployment
	first map[uint64]firstShip
	clash map[changeKey]firstShip
}

func newShips(ds []Deployment) *ships {
	return &ships{seed: maphash.MakeSeed(), ds: ds, first: map[uint64]firstShip{}, clash: map[changeKey]firstShip{}}
}

// serviceHash is the part of a change's hash its service gives.
func (s *ships) serviceHash(service string) uint64 {
	return maphash.String(s.seed, service) * 0x9e3779b97f4a7c15
}

func (s *ships) hash(service uint64, sha string) uint64 { return maphash.String(s.seed, sha) ^ service }

func (s *ships) key(f firstShip) changeKey {
	d := &s.ds[f.dep]
	return changeKey{d.Service, d.Changes[f.index].CommitSHA}
}

// ship records a shipment in the window, h the hash of its change.
func (s *ships) ship(h uint64, f firstShip) {
	old, ok := s.first[h]
	switch {
	case !ok:
		s.first[h] = f
	case s.key(old) != s.key(f):
		if o, ok := s.clash[s.key(f)]; !ok || f.at < o.at {
			s.clash[s.key(f)] = f
		}
	case f.at < old.at:
		s.first[h] = f
	}
}

// before records a shipment before the window: it takes the change from the
// window's shipments, and is not stored when the window has none of it.
func (s *ships) before(h uint64, f firstShip) {
	k := s.key(f)
	if old, ok := s.first[h]; ok && s.key(old) == k {
		if f.at < old.at {
			s.first[h] = f
		}
		return
	}
	if old, ok := s.clash[k]; ok && f.at < old.at {
		s.clash[k] = f
	}
}

// each calls fn with the first shipment of every change of the window.
func (s *ships) each(fn func(firstShip)) {
	for _, f := range s.first {
		fn(f)
	}
	for _, f := range s.clash {
		fn(f)
	}
}
