"""Clients, their tags, tiers, consumption history and merges (CRM-1…4, CRM-8, CRM-12, SEC-4)."""

from __future__ import annotations

from django.contrib.postgres.indexes import OpClass
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.core.crypto import EncryptedTextField, mask_id_number, mask_phone

HEX_COLOR = r"^#[0-9a-fA-F]{6}$"
ACTIVE = Q(is_active=True)


class MembershipTier(models.Model):
    """A membership level (普通会员, 银卡, 金卡 …). Price rules (catalogue) and loyalty's
    upgrade rules refer to it; the client's current tier is kept on the client."""

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(pgettext_lazy("thing", "name"), max_length=50)
    rank = models.PositiveSmallIntegerField(_("rank"), help_text=_("Higher ranks are better tiers."))
    color = models.CharField(_("colour"), max_length=7, default="#8c6d1f")

    class Meta:
        verbose_name = _("membership tier")
        verbose_name_plural = _("membership tiers")
        ordering = ["rank"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="tier_name_unique_ci"),
            models.UniqueConstraint("rank", name="tier_rank_unique"),
            models.CheckConstraint(condition=Q(color__regex=HEX_COLOR), name="tier_color_hex"),
        ]

    def __str__(self) -> str:
        return self.name


class TagRule(models.TextChoices):
    """Rules of automatic tags, recomputed nightly and on demand (CRM-3)."""

    SPEND_OVER = "spend_over", _("Spent at least an amount within the last N months")
    VISITS_AT_LEAST = "visits_at_least", _("At least N visits within the last N months")
    LAPSED = "lapsed", _("No visit for N days (after at least one visit)")
    BIRTHDAY_THIS_MONTH = "birthday_month", _("Birthday this month")
    NEW_CLIENT = "new_client", _("Became a client within the last N days")


class Tag(models.Model):
    """A coloured label. Manual tags are set by staff; a tag with a rule is kept by the rule."""

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(pgettext_lazy("thing", "name"), max_length=40)
    color = models.CharField(_("colour"), max_length=7, default="#2563eb")
    description = models.CharField(_("description"), max_length=200, blank=True)
    rule = models.CharField(_("automatic rule"), max_length=20, choices=TagRule.choices, blank=True)
    rule_amount = models.BigIntegerField(_("amount (fen)"), null=True, blank=True)
    rule_count = models.PositiveIntegerField(_("count"), null=True, blank=True)
    rule_months = models.PositiveSmallIntegerField(_("months"), null=True, blank=True)
    rule_days = models.PositiveIntegerField(_("days"), null=True, blank=True)
    recomputed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="tag_name_unique_ci"),
            models.CheckConstraint(condition=Q(color__regex=HEX_COLOR), name="tag_color_hex"),
            models.CheckConstraint(
                condition=Q(rule="")
                | Q(rule="spend_over", rule_amount__gt=0, rule_months__gt=0)
                | Q(rule="visits_at_least", rule_count__gt=0, rule_months__gt=0)
                | Q(rule="lapsed", rule_days__gt=0)
                | Q(rule="birthday_month")
                | Q(rule="new_client", rule_days__gt=0),
                name="tag_rule_parameters",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_automatic(self) -> bool:
        return bool(self.rule)


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    UNKNOWN = "", _("Not stated")


class Source(models.TextChoices):
    WALK_IN = "walk_in", _("Walk-in")
    REFERRAL = "referral", _("Referral")
    MEITUAN = "meituan", _("Meituan / Dianping")
    DOUYIN = "douyin", _("Douyin")
    XIAOHONGSHU = "xiaohongshu", _("Xiaohongshu")
    WECHAT = "wechat", _("WeChat")
    SOCIAL = "social", _("Other social media")
    ADVERT = "advert", _("Advertising")
    ONLINE_BOOKING = "online_booking", _("Online booking")
    OTHER = "other", _("Other")


class SkinType(models.TextChoices):
    NORMAL = "normal", _("Normal")
    DRY = "dry", _("Dry")
    OILY = "oily", _("Oily")
    COMBINATION = "combination", _("Combination")
    SENSITIVE = "sensitive", _("Sensitive")


class Client(models.Model):
    """A salon's client (CRM-1) with the health and skin profile (CRM-2).

    Phone and ID numbers are encrypted at rest; ``phone_hash``/``id_number_hash`` find
    them by exact match and ``phone_last4`` by the last four digits (SEC-4). Name
    spellings (``name_pinyin``, ``name_initials``) are derived by the services so that
    张三 is found by "zhangsan" and "zs" (CRM-8). Merged and erased clients stay as rows
    (history points at them) with ``is_active`` off.
    """

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(pgettext_lazy("person", "name"), max_length=100)
    name_pinyin = models.CharField(max_length=300, blank=True, editable=False)
    name_initials = models.CharField(max_length=100, blank=True, editable=False)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True)

    phone = EncryptedTextField(_("phone"), blank=True)
    phone_hash = models.CharField(max_length=64, blank=True, editable=False)
    phone_last4 = models.CharField(max_length=4, blank=True, editable=False)
    phone_alt = EncryptedTextField(_("second phone"), blank=True)
    phone_alt_hash = models.CharField(max_length=64, blank=True, editable=False)
    id_number = EncryptedTextField(_("ID number"), blank=True)
    id_number_hash = models.CharField(max_length=64, blank=True, editable=False)

    wechat_id = models.CharField(_("WeChat ID"), max_length=64, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    birthday_is_lunar = models.BooleanField(
        _("celebrates the lunar birthday"), default=False, help_text=_("农历生日: greetings follow the lunar date.")
    )
    lunar_birthday_month = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    lunar_birthday_day = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    lunar_birthday_is_leap_month = models.BooleanField(default=False, editable=False)
    anniversary = models.DateField(_("anniversary"), null=True, blank=True)
    occupation = models.CharField(_("occupation"), max_length=100, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    # The profile photo is one of the client's own photos: uploaded through the same checks,
    # stored privately and streamed only to the salon's staff.
    photo = models.ForeignKey(
        "crm.ClientPhoto", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("photo")
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, blank=True)
    referrer = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referrals",
        verbose_name=_("referred by"),
    )
    preferred_staff = models.ForeignKey(
        "core.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="preferred_by_clients",
        verbose_name=_("preferred staff"),
    )
    home_location = models.ForeignKey(
        "core.Location",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("home location"),
    )
    card_number = models.CharField(_("membership card number"), max_length=32, blank=True)
    tier = models.ForeignKey(
        MembershipTier, null=True, blank=True, on_delete=models.PROTECT, related_name="clients", verbose_name=_("tier")
    )
    notes = models.TextField(_("notes"), blank=True)

    # Health and skin profile (CRM-2). Any of the last three makes a red alert.
    skin_type = models.CharField(_("skin type"), max_length=20, choices=SkinType.choices, blank=True)
    allergies = models.TextField(_("allergies"), blank=True)
    contraindications = models.TextField(_("contraindications"), blank=True)
    taboos = models.TextField(_("taboos and preferences"), blank=True, help_text=_("E.g. likes a quiet room."))

    tags = models.ManyToManyField(Tag, through="ClientTag", related_name="clients", blank=True)

    is_active = models.BooleanField(default=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_clients"
    )
    erased_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["-id"]
        constraints = [
            # One active client per phone: de-duplication by phone (CRM-7) is a database rule.
            models.UniqueConstraint(
                "phone_hash", condition=Q(is_active=True) & ~Q(phone_hash=""), name="client_phone_unique_active"
            ),
            # Card numbers are stored upper-case (the services normalise them), so a plain index serves
            # exact and prefix lookups.
            models.UniqueConstraint(
                "card_number", condition=Q(is_active=True) & ~Q(card_number=""), name="client_card_number_unique_active"
            ),
            models.CheckConstraint(condition=Q(phone_last4__regex=r"^([0-9]{4})?$"), name="client_last4_digits"),
            models.CheckConstraint(condition=~Q(pk=models.F("merged_into")), name="client_not_merged_into_self"),
            models.CheckConstraint(condition=~Q(pk=models.F("referrer")), name="client_not_own_referrer"),
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True) | Q(is_active=False), name="client_merged_is_inactive"
            ),
            models.CheckConstraint(
                condition=Q(lunar_birthday_month__isnull=True) | Q(lunar_birthday_month__range=(1, 12)),
                name="client_lunar_month_range",
            ),
            models.CheckConstraint(
                condition=Q(lunar_birthday_day__isnull=True) | Q(lunar_birthday_day__range=(1, 30)),
                name="client_lunar_day_range",
            ),
        ]
        indexes = [
            # Search (CRM-8): prefix matches use these pattern-ops indexes; see selectors.client_search.
            models.Index(
                OpClass(Lower("name"), name="text_pattern_ops"), name="client_name_prefix_idx", condition=ACTIVE
            ),
            models.Index(
                OpClass("name_initials", name="varchar_pattern_ops"), name="client_initials_idx", condition=ACTIVE
            ),
            models.Index(
                OpClass("name_pinyin", name="varchar_pattern_ops"), name="client_pinyin_idx", condition=ACTIVE
            ),
            models.Index(fields=["phone_last4"], name="client_last4_idx", condition=ACTIVE),
            models.Index(OpClass("card_number", name="varchar_pattern_ops"), name="client_card_prefix_idx"),
            models.Index(fields=["phone_alt_hash"], name="client_phone_alt_idx"),
            models.Index(fields=["id_number_hash"], name="client_id_number_idx"),
            models.Index(fields=["birthday"], name="client_birthday_idx"),
            # The list ordered by name (pinyin) reads this index instead of sorting every client.
            models.Index(fields=["name_pinyin", "id"], name="client_pinyin_order_idx", condition=ACTIVE),
        ]

    def __str__(self) -> str:
        if self.erased_at is not None:
            return str(_("Erased client #%(id)s") % {"id": self.pk})
        return self.name

    @property
    def has_alert(self) -> bool:
        return bool(self.allergies or self.contraindications or self.taboos)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    @property
    def phone_alt_masked(self) -> str:
        return mask_phone(self.phone_alt)

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)


class TagSource(models.TextChoices):
    MANUAL = "manual", _("Set by staff")
    RULE = "rule", _("Set by its rule")


class ClientTag(models.Model):
    id = models.BigAutoField(primary_key=True)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="client_tags")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="client_tags")
    source = models.CharField(max_length=10, choices=TagSource.choices, default=TagSource.MANUAL)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint("client", "tag", name="client_tag_unique")]
        indexes = [models.Index(fields=["tag", "client"], name="client_tag_by_tag_idx")]

    def __str__(self) -> str:
        return f"{self.client_id}:{self.tag_id}"


class PurchaseKind(models.TextChoices):
    SERVICE = "service", _("Service")
    PRODUCT = "product", _("Product")
    PACKAGE = "package", _("Package")
    COURSE_CARD = "course_card", _("Course card")
    TOP_UP = "top_up", _("Stored-value top-up")
    OTHER = "other", _("Other")


class PurchaseSource(models.TextChoices):
    TILL = "till", _("Till")
    IMPORT = "import", _("Imported")
    MANUAL = "manual", _("Entered by hand")


class PurchaseLine(models.Model):
    """One line of a client's consumption history (CRM-4).

    The till records every sold line here through ``purchase_record`` (and a refund as a
    line with a negative amount), so the history, the summary figures and the spend-based
    tags read one table; history brought from a previous system is imported the same way.
    ``reference`` makes recording idempotent.
    """

    id = models.BigAutoField(primary_key=True)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="purchases")
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    kind = models.CharField(_("kind"), max_length=20, choices=PurchaseKind.choices, default=PurchaseKind.SERVICE)
    item_name = models.CharField(_("item"), max_length=200)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    amount = models.BigIntegerField(_("amount (fen)"), help_text=_("Negative for a refund."))
    staff = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("staff")
    )
    staff_name = models.CharField(_("staff"), max_length=100, blank=True)
    tender = models.CharField(_("paid by"), max_length=100, blank=True)
    location = models.ForeignKey(
        "core.Location", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("location")
    )
    visit_reference = models.CharField(
        max_length=64, blank=True, help_text="Lines of one bill share it; a visit is one bill (or one day's lines)."
    )
    reference = models.CharField(max_length=100, blank=True, help_text="Idempotency key of the recording system")
    source = models.CharField(max_length=10, choices=PurchaseSource.choices, default=PurchaseSource.TILL)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("purchase")
        verbose_name_plural = _("purchases")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint("reference", condition=~Q(reference=""), name="purchase_reference_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="purchase_quantity_positive"),
        ]
        indexes = [models.Index(fields=["client", "-occurred_at"], name="purchase_client_time_idx")]

    def __str__(self) -> str:
        return f"{self.item_name} {self.amount}"


class ClientMerge(models.Model):
    """A merge of ``merged`` into ``survivor`` (CRM-12), with every row it moved so that it can
    be undone exactly. Never deleted; undoing stamps ``reversed_at``."""

    id = models.BigAutoField(primary_key=True)
    survivor = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="merges_received")
    merged = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="merges_given")
    moved = models.JSONField(default=dict, help_text="{table label: [row ids moved to the survivor]}")
    filled_fields = models.JSONField(
        default=dict, help_text="Survivor fields that were blank and took the merged client's value"
    )
    merged_by = models.ForeignKey("core.User", null=True, on_delete=models.SET_NULL, related_name="+")
    merged_at = models.DateTimeField(auto_now_add=True)
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversed_by = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(survivor=models.F("merged")), name="merge_two_clients"),
            # A client is merged away at most once at a time.
            models.UniqueConstraint("merged", condition=Q(reversed_at__isnull=True), name="merge_once_active"),
        ]

    def __str__(self) -> str:
        return f"{self.merged_id} → {self.survivor_id}"
