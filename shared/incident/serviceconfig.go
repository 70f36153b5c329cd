package incident

import (
	"context"
	"fmt"

	"github.com/incidentd/incidentd/shared/errkind"
)

// DeleteServiceConfig deletes a service's settings; errkind.NotFound when it
// has none. Nothing names a service, so nothing refuses it: the service's
// incidents, open ones included, then follow the defaults (no escalation
// policy: the platform's fallback is paged, see shared/oncall), and a PUT
// creates the settings anew.
func (s *Service) DeleteServiceConfig(ctx context.Context, name string) error {
	if err := ValidateServiceName(name); err != nil {
		return errkind.NotFoundf("service %q not found", name)
	}
	defer s.cache.forgetConfigs(name)
	if err := s.store.DeleteServiceConfig(ctx, name); err != nil {
		return fmt.Errorf("delete config of service %s: %w", name, err)
	}
	return nil
}
