from .selectors import demo_data_loaded


def site_notices(request):
    """A visible warning on every page while synthetic demo incidents are in the database."""
    return {"demo_data_loaded": demo_data_loaded()}
