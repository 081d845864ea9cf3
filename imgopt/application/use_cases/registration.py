"""Register a webhook; one registered after its request finished is announced at once."""

from uuid import UUID

from imgopt.application.errors import RequestNotFound
from imgopt.application.ports import Clock, IdGenerator, UnitOfWorkFactory, UnsafeUrl, UrlPolicy, WorkSignal
from imgopt.application.use_cases.announcement import Announcer
from imgopt.domain.product_csv import url_problem
from imgopt.domain.webhooks import Webhook, WebhookFormat


class RegisterWebhook:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        ids: IdGenerator,
        url_policy: UrlPolicy,
        announcer: Announcer,
        webhook_work: WorkSignal,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids
        self._url_policy = url_policy
        self._announcer = announcer
        self._webhook_work = webhook_work

    def __call__(self, url: str, request_id: UUID | None = None, format: WebhookFormat = WebhookFormat.JSON) -> Webhook:
        webhook = self.prepare(url, request_id, format)
        announced = 0
        with self._uow() as uow:
            if request_id is not None:
                request = uow.requests.get_for_update(request_id)
                if request is None:
                    raise RequestNotFound(f"no request with id {request_id}")
            uow.webhooks.add(webhook)
            if request_id is not None and request.status.is_terminal:
                announced = self._announcer.announce(uow, request, [webhook])
            uow.commit()
        if announced:
            self._webhook_work.notify()
        return webhook

    def prepare(self, url: str, request_id: UUID | None, format: WebhookFormat) -> Webhook:
        """A new, checked but unsaved registration."""
        url = url.strip()
        problem = url_problem(url)
        if problem:
            raise UnsafeUrl(f"webhookUrl: {problem}")
        self._url_policy.check(url)
        return Webhook(
            id=self._ids.uuid(),
            url=url,
            secret=self._ids.secret(),
            format=format,
            created_at=self._clock.now(),
            request_id=request_id,
        )
