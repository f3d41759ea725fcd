"""The salon's catalogue (CAT-1…5): services, products, suppliers, packages, price rules and
course-card templates. Money is integer fen; every rule the services keep has a constraint here too."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.core.uploads import TenantUploadTo


class _Category(models.Model):
    id = models.BigAutoField(primary_key=True)
    name = models.CharField(_("name"), max_length=50)
    sort_order = models.IntegerField(_("sort order"), default=0, help_text=_("Lower numbers are listed first."))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        abstract = True
        ordering = ["sort_order", "name", "id"]

    def __str__(self) -> str:
        return self.name


class ServiceCategory(_Category):
    class Meta(_Category.Meta):
        verbose_name = _("service category")
        verbose_name_plural = _("service categories")
        constraints = [models.UniqueConstraint(Lower("name"), name="service_category_name_unique_ci")]


class ProductCategory(_Category):
    class Meta(_Category.Meta):
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")
        constraints = [models.UniqueConstraint(Lower("name"), name="product_category_name_unique_ci")]


class Service(models.Model):
    """Something the salon does for a client (CAT-1): a cut, a perm, a facial."""

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    category = models.ForeignKey(
        ServiceCategory,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="services",
        verbose_name=_("category"),
    )
    description = models.TextField(_("description"), blank=True)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"))
    buffer_minutes = models.PositiveIntegerField(
        _("buffer (minutes)"), default=0, help_text=_("Time to clean up and prepare after the service.")
    )
    price = models.BigIntegerField(_("price (fen)"))
    suits = models.TextField(_("who it suits"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.IntegerField(_("sort order"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["sort_order", "name", "id"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="service_name_unique_ci"),
            models.CheckConstraint(condition=Q(duration_minutes__gt=0), name="service_duration_positive"),
            models.CheckConstraint(condition=Q(buffer_minutes__gte=0), name="service_buffer_not_negative"),
            models.CheckConstraint(condition=Q(price__gte=0), name="service_price_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class Supplier(models.Model):
    id = models.BigAutoField(primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    contact = models.CharField(_("contact person"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(Lower("name"), name="supplier_name_unique_ci")]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    """Something the salon sells or uses up (CAT-2). ``stock`` is the figure on hand, written only by
    ``catalog.services.product_stock_set`` or, where stock is kept per location (inventory), as the
    whole units over all locations by inventory's stock services."""

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    brand = models.CharField(_("brand"), max_length=50, blank=True)
    spec = models.CharField(_("specification"), max_length=50, blank=True, help_text=_("e.g. 500 ml"))
    cost = models.BigIntegerField(_("cost (fen)"), default=0)
    price = models.BigIntegerField(_("price (fen)"))
    barcode = models.CharField(_("barcode"), max_length=64, blank=True)
    supplier = models.ForeignKey(
        Supplier, null=True, blank=True, on_delete=models.PROTECT, related_name="products", verbose_name=_("supplier")
    )
    category = models.ForeignKey(
        ProductCategory,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
        verbose_name=_("category"),
    )
    image = models.ImageField(_("image"), upload_to=TenantUploadTo("catalog/products"), blank=True, max_length=200)
    stock = models.IntegerField(_("stock on hand"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name", "id"]
        constraints = [
            # The same name may come from two brands or in two sizes; the three together are one product.
            models.UniqueConstraint(Lower("name"), Lower("brand"), Lower("spec"), name="product_identity_unique_ci"),
            models.UniqueConstraint(fields=["barcode"], condition=~Q(barcode=""), name="product_barcode_unique"),
            models.CheckConstraint(condition=Q(cost__gte=0), name="product_cost_not_negative"),
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative"),
            models.CheckConstraint(condition=Q(stock__gte=0), name="product_stock_not_negative"),
        ]

    def __str__(self) -> str:
        return " ".join(part for part in (self.brand, self.name, self.spec) if part)


class ServiceMaterial(models.Model):
    """A product used up by one service (so much hair dye per colour)."""

    id = models.BigAutoField(primary_key=True)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="materials", verbose_name=_("service"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product"))
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=16, blank=True, help_text=_("e.g. ml, g, piece"))

    class Meta:
        verbose_name = _("material")
        verbose_name_plural = _("materials")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["service", "product"], name="service_material_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="service_material_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity} {self.unit}".strip()


class Package(models.Model):
    """A bundle of services and products sold at one price (CAT-3, 套餐)."""

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    price = models.BigIntegerField(_("price (fen)"))
    validity_days = models.PositiveIntegerField(
        _("valid for (days)"), null=True, blank=True, help_text=_("Leave empty when it never expires.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("package")
        verbose_name_plural = _("packages")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="package_name_unique_ci"),
            models.CheckConstraint(condition=Q(price__gte=0), name="package_price_not_negative"),
            models.CheckConstraint(
                condition=Q(validity_days__isnull=True) | Q(validity_days__gt=0), name="package_validity_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PackageItem(models.Model):
    """One line of a package: a service or a product (never both), so many times."""

    id = models.BigAutoField(primary_key=True)
    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="items", verbose_name=_("package"))
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("service")
    )
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=1)

    class Meta:
        verbose_name = _("package item")
        verbose_name_plural = _("package items")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(service__isnull=False) & Q(product__isnull=True))
                | (Q(service__isnull=True) & Q(product__isnull=False)),
                name="package_item_service_xor_product",
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="package_item_quantity_positive"),
            models.UniqueConstraint(
                fields=["package", "service"], condition=Q(service__isnull=False), name="package_item_service_unique"
            ),
            models.UniqueConstraint(
                fields=["package", "product"], condition=Q(product__isnull=False), name="package_item_product_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service or self.product} × {self.quantity}"


class PriceRule(models.Model):
    """The price of a service for a membership tier, a staff level, or the pair (CAT-4).
    ``selectors.service_price`` says which rule wins; a service without rules costs its base price."""

    id = models.BigAutoField(primary_key=True)
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="price_rules", verbose_name=_("service")
    )
    # A rule for a tier that no longer exists means nothing: it goes with the tier.
    tier = models.ForeignKey(
        "crm.MembershipTier",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("membership tier"),
    )
    staff_level = models.ForeignKey(
        "core.StaffLevel",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("staff level"),
    )
    price = models.BigIntegerField(_("price (fen)"))

    class Meta:
        verbose_name = _("price rule")
        verbose_name_plural = _("price rules")
        ordering = ["service_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="price_rule_price_not_negative"),
            models.CheckConstraint(
                condition=Q(tier__isnull=False) | Q(staff_level__isnull=False), name="price_rule_has_a_condition"
            ),
            # NULLS NOT DISTINCT: one "any level" rule per (service, tier), one "any tier" rule per
            # (service, level); plain UNIQUE would let NULLs repeat.
            models.UniqueConstraint(
                fields=["service", "tier", "staff_level"], nulls_distinct=False, name="price_rule_unique_per_condition"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_id}: {self.price}"


class CourseCardTemplate(models.Model):
    """A course card on sale (CAT-5, 次卡/疗程卡): so many sessions of given services, valid so long."""

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    price = models.BigIntegerField(_("price (fen)"))
    validity_days = models.PositiveIntegerField(_("valid for (days)"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("course card template")
        verbose_name_plural = _("course card templates")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="course_card_template_name_unique_ci"),
            models.CheckConstraint(condition=Q(price__gte=0), name="course_card_template_price_not_negative"),
            models.CheckConstraint(condition=Q(validity_days__gt=0), name="course_card_template_validity_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class CourseCardTemplateItem(models.Model):
    id = models.BigAutoField(primary_key=True)
    template = models.ForeignKey(
        CourseCardTemplate, on_delete=models.CASCADE, related_name="items", verbose_name=_("course card")
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+", verbose_name=_("service"))
    sessions = models.PositiveIntegerField(pgettext_lazy("course card", "sessions"))

    class Meta:
        verbose_name = _("course card item")
        verbose_name_plural = _("course card items")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["template", "service"], name="course_card_item_unique"),
            models.CheckConstraint(condition=Q(sessions__gt=0), name="course_card_item_sessions_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.service_id} × {self.sessions}"
