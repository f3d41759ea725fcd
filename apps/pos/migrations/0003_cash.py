"""Cash sessions (POS-5): the drawer per location, pay-ins and pay-outs, the closing counts per tender,
and the salon's choice to take cash only in an open session."""

import django.db.models.deletion
import django.db.models.expressions
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


# Pay-ins and pay-outs are a ledger (CONVENTIONS: a correction is a new row): PostgreSQL refuses to change
# or delete one.
APPEND_ONLY = """
CREATE OR REPLACE FUNCTION pos_cash_movement_guard() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'pos_cashmovement rows cannot be changed or deleted' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER pos_cashmovement_append_only BEFORE UPDATE OR DELETE ON pos_cashmovement
FOR EACH ROW EXECUTE FUNCTION pos_cash_movement_guard();
"""
APPEND_ONLY_REVERSE = """
DROP TRIGGER IF EXISTS pos_cashmovement_append_only ON pos_cashmovement;
DROP FUNCTION IF EXISTS pos_cash_movement_guard();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0005_manage_schedule_permission'),
        ('pos', '0002_commission'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='possettings',
            name='cash_session_required',
            field=models.BooleanField(default=False, help_text='Refuse cash payments at a location whose drawer has no open cash session.', verbose_name='cash only in an open cash session'),
        ),
        migrations.CreateModel(
            name='CashSession',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('status', models.CharField(choices=[('open', 'Open'), ('closed', 'Closed')], default='open', max_length=10, verbose_name='status')),
                ('opening_float', models.BigIntegerField(help_text='Cash in the drawer at the start.', verbose_name='float')),
                ('opened_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='opened')),
                ('opening_note', models.CharField(blank=True, max_length=200, verbose_name='note')),
                ('closed_at', models.DateTimeField(blank=True, null=True, verbose_name='closed')),
                ('expected_cash', models.BigIntegerField(blank=True, null=True, verbose_name='expected cash')),
                ('counted_cash', models.BigIntegerField(blank=True, null=True, verbose_name='counted cash')),
                ('cash_difference', models.BigIntegerField(blank=True, null=True, verbose_name='difference')),
                ('closing_note', models.CharField(blank=True, max_length=200, verbose_name='closing note')),
                ('idempotency_key', models.CharField(blank=True, max_length=120, null=True, unique=True)),
                ('closed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='closed by')),
                ('location', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='cash_sessions', to='core.location', verbose_name='location')),
                ('opened_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='cashier')),
            ],
            options={
                'verbose_name': 'cash session',
                'verbose_name_plural': 'cash sessions',
                'ordering': ['-opened_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='CashMovement',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('kind', models.CharField(choices=[('pay_in', 'Pay-in'), ('pay_out', 'Pay-out')], max_length=10, verbose_name='kind')),
                ('amount', models.BigIntegerField(verbose_name='amount')),
                ('reason', models.CharField(max_length=200, verbose_name='reason')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='time')),
                ('idempotency_key', models.CharField(blank=True, max_length=120, null=True, unique=True)),
                ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='by')),
                ('session', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='movements', to='pos.cashsession')),
            ],
            options={
                'verbose_name': 'cash movement',
                'verbose_name_plural': 'cash movements',
                'ordering': ['session', 'id'],
            },
        ),
        migrations.CreateModel(
            name='CashSessionTally',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('method', models.CharField(choices=[('cash', 'Cash'), ('wechat', 'WeChat Pay'), ('alipay', 'Alipay'), ('stored_value', 'Stored value'), ('points', 'Points'), ('course_card', 'Course-card session')], max_length=20, verbose_name='method')),
                ('count', models.PositiveIntegerField(default=0, verbose_name='payments')),
                ('taken', models.BigIntegerField(default=0, verbose_name='taken')),
                ('refunded', models.BigIntegerField(default=0, verbose_name='refunded')),
                ('expected', models.BigIntegerField(verbose_name='expected')),
                ('counted', models.BigIntegerField(blank=True, null=True, verbose_name='counted')),
                ('difference', models.BigIntegerField(blank=True, null=True, verbose_name='difference')),
                ('session', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='tallies', to='pos.cashsession')),
            ],
            options={
                'verbose_name': 'closing count',
                'verbose_name_plural': 'closing counts',
                'ordering': ['session', 'id'],
            },
        ),
        migrations.AddIndex(
            model_name='cashsession',
            index=models.Index(fields=['location', '-opened_at'], name='cash_session_location_idx'),
        ),
        migrations.AddConstraint(
            model_name='cashsession',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'open')), fields=('location',), name='cash_session_one_open_per_location'),
        ),
        migrations.AddConstraint(
            model_name='cashsession',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['open', 'closed'])), name='cash_session_status_valid'),
        ),
        migrations.AddConstraint(
            model_name='cashsession',
            constraint=models.CheckConstraint(condition=models.Q(('opening_float__gte', 0)), name='cash_session_float_not_negative'),
        ),
        migrations.AddConstraint(
            model_name='cashsession',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('cash_difference__isnull', True), ('closed_at__isnull', True), ('closed_by__isnull', True), ('counted_cash__isnull', True), ('expected_cash__isnull', True), ('status', 'open')), models.Q(('cash_difference', django.db.models.expressions.CombinedExpression(models.F('counted_cash'), '-', models.F('expected_cash'))), ('closed_at__isnull', False), ('counted_cash__gte', 0), ('expected_cash__isnull', False), ('status', 'closed')), _connector='OR'), name='cash_session_closing_figures'),
        ),
        migrations.AddConstraint(
            model_name='cashsession',
            constraint=models.CheckConstraint(condition=models.Q(('closed_at__isnull', True), ('closed_at__gte', models.F('opened_at')), _connector='OR'), name='cash_session_closed_after_opened'),
        ),
        migrations.AddConstraint(
            model_name='cashmovement',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['pay_in', 'pay_out'])), name='cash_movement_kind_valid'),
        ),
        migrations.AddConstraint(
            model_name='cashmovement',
            constraint=models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='cash_movement_amount_positive'),
        ),
        migrations.AddConstraint(
            model_name='cashmovement',
            constraint=models.CheckConstraint(condition=models.Q(('reason', ''), _negated=True), name='cash_movement_has_reason'),
        ),
        migrations.AddConstraint(
            model_name='cashsessiontally',
            constraint=models.UniqueConstraint(fields=('session', 'method'), name='cash_tally_one_per_method'),
        ),
        migrations.AddConstraint(
            model_name='cashsessiontally',
            constraint=models.CheckConstraint(condition=models.Q(('taken__gte', 0), ('refunded__gte', 0)), name='cash_tally_amounts'),
        ),
        migrations.AddConstraint(
            model_name='cashsessiontally',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('counted__isnull', True), ('difference__isnull', True)), models.Q(('counted__gte', 0), ('difference', django.db.models.expressions.CombinedExpression(models.F('counted'), '-', models.F('expected')))), _connector='OR'), name='cash_tally_difference'),
        ),
        migrations.RunSQL(APPEND_ONLY, APPEND_ONLY_REVERSE),
    ]
