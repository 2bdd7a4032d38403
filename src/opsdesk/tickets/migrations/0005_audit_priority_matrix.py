import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    """The priority matrix becomes an audited record: edits keep who, when, before and after."""

    dependencies = [
        ("tickets", "0004_saved_views"),
    ]

    operations = [
        migrations.AddField(
            model_name="priorityrule",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True, db_index=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="priorityrule",
            name="updated_at",
            field=models.DateTimeField(auto_now=True),
        ),
        migrations.AddField(
            model_name="priorityrule",
            name="version",
            field=models.PositiveIntegerField(default=1, editable=False),
        ),
    ]
