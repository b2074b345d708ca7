from django.db import migrations, models
import django.utils.timezone


class Migration(migrations.Migration):

    dependencies = [
        ('downloads', '0011_incomplete_format_invalid_auto_kind'),
    ]

    operations = [
        migrations.CreateModel(
            name='PreviousStorage',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('path', models.CharField(max_length=1024, unique=True)),
                ('left_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                'verbose_name': 'previous storage folder',
                'ordering': ['-left_at'],
            },
        ),
    ]
