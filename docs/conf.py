# Sphinx configuration for fastnb's docs site. `python tools/docs.py site` copies this file next to the pages
# it generates from the notebooks (in _site_src/) and builds the HTML into _docs/.
project = 'fastnb'
author = 'fastnb developers'
copyright = '2026 onwards, fastnb developers'

extensions = ['myst_nb']
myst_enable_extensions = ['colon_fence', 'dollarmath']
myst_heading_anchors = 4           # `page.ipynb#name` links reach show_doc's headings
nb_execution_mode = 'off'            # the notebooks are run by the tests; docs show what nbdev's processing stored
nb_merge_streams = True
exclude_patterns = ['_build', '**.ipynb_checkpoints']
suppress_warnings = ['myst.header']  # show_doc headings start at ### inside a page
html_theme = 'sphinx_book_theme'
html_title = 'fastnb'
html_theme_options = {
    'repository_url': 'https://github.com/fastnb/fastnb',
    'use_repository_button': True,
    'show_toc_level': 2,
    'navigation_with_keys': False,
    'use_download_button': False,
}
html_static_path = []
html_copy_source = False
html_show_sourcelink = False
