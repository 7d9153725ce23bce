"""The check of 0004 as a constraint, in a migration (and so a transaction) of its own: PostgreSQL
does not alter a table with pending trigger events of rows 0004 may have updated."""

from decimal import Decimal

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0004_responsibility_local_fee_collectable'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='responsibility',
            constraint=models.CheckConstraint(condition=models.Q(('local_fee__isnull', True), models.Q(('local_fee__gte', 0), ('local_fee__lte', Decimal('999999.99'))), _connector='OR'), name='responsibility_local_fee_collectable'),
        ),
    ]
