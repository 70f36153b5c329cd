package incident

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/incidentd/incidentd/shared/errkind"
)

// Services from a file (README, "Services from the file"): the services
// listed in the stack's services file are the settings of those services,
// written into the store at deploy (and by `make local` at start), each
// marked with the file's name (ServiceConfig.ManagedBy). One source of truth
// per service: the API refuses to change or delete a managed service
// (ManagedError), and a service removed from the file loses its settings at
// the next deploy.

// ManagedError is the conflict of an API write or delete of a service whose
// settings come from file.
func ManagedError(name, file string) error {
	return errkind.Conflictf("service %s is managed by %s: change it there and deploy (README, \"Services from the file\")", name, file)
}

// Applied says what ApplyServicesFile did.
type Applied struct {
	// Written are the services of the file, by name.
	Written []string `json:"written"`
	// Removed are the managed services the file no longer lists.
	Removed []string `json:"removed"`
}

// ApplyServicesFile makes the services of file the store's managed services:
// each of configs is written with ManagedBy = file (replacing what the API
// or an earlier file wrote), and every managed service configs does not list
// is removed, whichever file it came from (a stack has one services file).
// Every config is validated before anything is written. Applying the same
// file twice changes nothing but the configs' UpdatedAt.
//
// A config may name a policy that does not exist yet (a first deploy comes
// before any policy): the store records the reference all the same, and the
// service's incidents page the fallback until the policy is created.
func (s *Service) ApplyServicesFile(ctx context.Context, file string, configs []ServiceConfig) (Applied, error) {
	if file == "" {
		return Applied{}, errkind.Invalidf("services file: a name is required")
	}
	seen := map[string]bool{}
	for i := range configs {
		c := &configs[i]
		if err := c.Validate(); err != nil {
			return Applied{}, fmt.Errorf("%s: service %s: %w", file, c.Name, err)
		}
		if seen[c.Name] {
			return Applied{}, errkind.Invalidf("%s: service %s listed twice", file, c.Name)
		}
		seen[c.Name] = true
	}
	now := s.now().UTC()
	out := Applied{Written: []string{}, Removed: []string{}}
	for _, c := range configs {
		c.ManagedBy = file
		c.UpdatedAt = now
		if err := s.store.PutServiceConfig(ctx, c); err != nil {
			return out, fmt.Errorf("store service %s of %s: %w", c.Name, file, err)
		}
		s.cache.forgetConfigs(c.Name)
		out.Written = append(out.Written, c.Name)
	}
	stored, err := s.store.ListServiceConfigs(ctx)
	if err != nil {
		return out, fmt.Errorf("list services: %w", err)
	}
	for _, c := range stored {
		if c.ManagedBy == "" || seen[c.Name] {
			continue
		}
		if err := s.store.RemoveManagedServiceConfig(ctx, c.Name); err != nil && !errors.Is(err, errkind.NotFound) {
			return out, fmt.Errorf("remove service %s (no longer in %s): %w", c.Name, file, err)
		}
		s.cache.forgetConfigs(c.Name)
		out.Removed = append(out.Removed, c.Name)
	}
	slices.Sort(out.Written)
	return out, nil
}
