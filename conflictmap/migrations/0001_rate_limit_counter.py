from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="RateLimitCounter",
            fields=[
                (
                    "bucket",
                    models.CharField(
                        max_length=200, primary_key=True, serialize=False, verbose_name="scope and client address"
                    ),
                ),
                ("window_ends_at", models.DateTimeField(verbose_name="window ends at")),
                ("hits", models.PositiveIntegerField(verbose_name="requests in the window")),
            ],
            options={"verbose_name": "rate-limit counter", "verbose_name_plural": "rate-limit counters"},
        ),
        # Counters are worth nothing after a crash, so they skip the write-ahead log (cheaper on every request).
        migrations.RunSQL(
            "ALTER TABLE conflictmap_ratelimitcounter SET UNLOGGED",
            "ALTER TABLE conflictmap_ratelimitcounter SET LOGGED",
        ),
    ]
