"""jubao (居保): administration of urban and rural residents' basic pension insurance.

Layers depend one way: ``platform → pension → authz → tenants``; the modules at this level
(``orm``, ``errors``, ``audit``) are shared by all of them.
"""
