"""E-receipts (POS-3): each receipt message sent to a client, once on payment; and the salon's choice to
print the receipt as soon as a bill is paid."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('messaging', '0003_delivery_template'),
        ('pos', '0003_cash'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='possettings',
            name='auto_print_receipt',
            field=models.BooleanField(default=False, help_text='Queue the receipt for the front-desk printer as soon as a bill is paid.', verbose_name='print the receipt on payment'),
        ),
        migrations.CreateModel(
            name='EReceipt',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('trigger', models.CharField(choices=[('paid', 'On payment'), ('manual', 'Sent by staff')], max_length=10, verbose_name='sent')),
                ('channel', models.CharField(max_length=16, verbose_name='channel')),
                ('idempotency_key', models.CharField(max_length=120, unique=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('bill', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='e_receipts', to='pos.bill')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('delivery', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='messaging.delivery')),
            ],
            options={
                'verbose_name': 'e-receipt',
                'verbose_name_plural': 'e-receipts',
                'ordering': ['bill', 'id'],
            },
        ),
        migrations.AddConstraint(
            model_name='ereceipt',
            constraint=models.UniqueConstraint(condition=models.Q(('trigger', 'paid')), fields=('bill',), name='e_receipt_once_on_payment'),
        ),
        migrations.AddConstraint(
            model_name='ereceipt',
            constraint=models.CheckConstraint(condition=models.Q(('trigger__in', ['paid', 'manual'])), name='e_receipt_trigger_valid'),
        ),
    ]
