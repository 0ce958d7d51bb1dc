"""Give every playground created before history existed its revision 1."""

from django.db import migrations


def backfill(apps, schema_editor):
    Playground = apps.get_model("playground", "Playground")
    Revision = apps.get_model("playground", "Revision")
    for pg in Playground.objects.filter(version=0).iterator():
        Revision.objects.create(playground=pg, number=1, files=pg.files, author="user")
        Playground.objects.filter(id=pg.id).update(version=1)


class Migration(migrations.Migration):
    dependencies = [("playground", "0002_history_sharing")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
