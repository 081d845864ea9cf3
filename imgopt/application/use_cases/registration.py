"""Register a webhook; one registered after its request finished is announced at once."""

from dataclasses import dataclass
from uuid import UUID

from imgopt.application.errors import RequestNotFound
from imgopt.application.ports import Clock, IdGenerator, UnitOfWorkFactory, UnsafeUrl, UrlPolicy, WorkSignal
from imgopt.application.use_cases.announcement import Announcer
from imgopt.domain.product_csv import url_problem
from imgopt.domain.webhooks import Webhook, WebhookFormat


@dataclass(frozen=True, slots=True)
class Registration:
    """A registered webhook; `warning` says why its deliveries may fail for now (its host does not resolve)."""

    webhook: Webhook
    warning: str | None = None


@dataclass(frozen=True, slots=True)
class RegisterWebhook:
    """Register a webhook for one of the tenant's requests or, without `request_id`, for all of them.

    Only what is definitely wrong is refused (not http(s), a non-public address); a host that does
    not resolve right now is accepted with a warning, since every delivery checks it again.
    """

    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    url_policy: UrlPolicy
    announcer: Announcer
    webhook_work: WorkSignal

    def __call__(
        self, tenant_id: UUID, url: str, request_id: UUID | None = None, format: WebhookFormat = WebhookFormat.JSON
    ) -> Registration:
        registration = self.prepare(tenant_id, url, request_id, format)
        announced = 0
        with self.uow() as uow:
            if request_id is not None:
                request = uow.requests.get_for_update(request_id, tenant_id)
                if request is None:
                    raise RequestNotFound(f"no request with id {request_id}")
            uow.webhooks.add(registration.webhook)
            if request_id is not None and request.status.is_terminal:
                announced = self.announcer.announce(uow, request, [registration.webhook])
            uow.commit()
        if announced:
            self.webhook_work.notify()
        return registration

    def prepare(self, tenant_id: UUID, url: str, request_id: UUID | None, format: WebhookFormat) -> Registration:
        """A new, checked but unsaved registration."""
        url = url.strip()
        problem = url_problem(url)
        if problem:
            raise UnsafeUrl(f"webhookUrl: {problem}")
        warning = self.url_policy.check(url)
        webhook = Webhook(
            id=self.ids.uuid(),
            tenant_id=tenant_id,
            url=url,
            secret=self.ids.secret(),
            format=format,
            created_at=self.clock.now(),
            request_id=request_id,
        )
        return Registration(
            webhook, f"webhookUrl: {warning}; it is checked again at every delivery" if warning else None
        )
